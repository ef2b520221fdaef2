// The module's whole export list; ABI.md is its contract.
export { heap_base } from "./memory";
export { conv2d_packed_len, conv2d_pack, conv2d_dense, conv2d_dense_rows } from "./conv";
export { spike_index, conv2d_event, conv2d_event_rows, count_nonzero, scratch_bytes, set_scratch, linear_event } from "./event";
export { pool2d } from "./pool";
export { affine, relu } from "./elementwise";
export { lif, li, cubalif } from "./neurons";
export { sam_step } from "./sam";
export { rng_seed, encode } from "./encode";
export { conv2d_backward_input, conv2d_backward_weight, bias_backward } from "./backward/conv";
export { pool2d_backward, affine_backward, relu_backward } from "./backward/elementwise";
export { lif_forward_train, lif_backward, li_backward } from "./backward/neurons";
export { simd_peak, gather_peak } from "./peak";
export { plan_run, plan_error_at, plan_set_helper, plan_tiles, plan_record } from "./plan";
export { sl_plan_bytes, sl_load, sl_error_at, sl_header, sl_set_input, sl_input, sl_run, sl_steps, sl_scores, sl_output } from "./slplan";
