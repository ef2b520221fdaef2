export { readNir, nirToModel, discretisation, fileHints, NIR_TYPES } from './import.js';
export { writeNir, tauFor } from './export.js';
export type { NirExportOptions } from './export.js';
export type { NirImport, NirImportOptions } from './import.js';
export { PRESETS, PRESET_NAMES, below, eulerBeta } from './presets.js';
export type { Discretisation, Integration, PresetName, GainRule, IfGainRule } from './presets.js';
export { readHdf5 } from './hdf5.js';
export { nirChain } from './graph.js';
