/**
 * The SAM paper's claims, each tested against the report's measurements (docs/report.md): "holds here" when the
 * numbers support it beyond their 95 % intervals, "does not hold here" when they contradict it or show no
 * difference, "not measurable here" when a measurement is missing.
 */
import type { MeanCI } from '@spikelens/sam';
import type { AdversarialResult, FaithfulnessResult, LocalisationResult } from './compute.js';

export type Verdict = 'holds here' | 'does not hold here' | 'not measurable here';

export interface Claim {
  readonly claim: string;
  readonly measured: string;
  readonly verdict: Verdict;
}

const f = (x: MeanCI | undefined, digits = 3): string => (x && Number.isFinite(x.mean) ? `${x.mean.toFixed(digits)} ± ${x.ci95.toFixed(digits)}` : 'n/a');
/** a is above b beyond both intervals. */
const above = (a?: MeanCI, b?: MeanCI): boolean => !!a && !!b && a.mean - a.ci95 > b.mean + b.ci95;

export function claims(
  faith: readonly FaithfulnessResult[], local: LocalisationResult | null, adv: AdversarialResult | null,
): Claim[] {
  const out: Claim[] = [];
  const by = (name: string) => faith.find((r) => r.model === name)?.summary.methods;

  // 1. SAM localises without labels or gradients.
  if (local) {
    const c = local.cluttered.methods;
    const sam = c.sam, rnd = c.random, inp = c.input;
    const ok = above(sam?.energy, rnd?.energy) && above(sam?.pointing, rnd?.pointing);
    out.push({
      claim: 'SAM localises the object without labels or gradients',
      measured: `cluttered MNIST, ${local.model}: pointing ${f(sam?.pointing)} (random ${f(rnd?.pointing)}, input ${f(inp?.pointing)}); energy in box ${f(sam?.energy)} (random ${f(rnd?.energy)}, input ${f(inp?.energy)})`,
      verdict: ok ? 'holds here' : 'does not hold here',
    });
  } else out.push({ claim: 'SAM localises the object without labels or gradients', measured: 'no cluttered-MNIST model', verdict: 'not measurable here' });

  // 2. SAM is sharper than the SNN-crafted Grad-CAM.
  const lif = by('mnist-lif-bptt');
  if (lif && local) {
    const c = local.cluttered.methods;
    const ok = above(c.sam?.energy, c.gradcam?.energy) && above(lif.gradcam?.deletion, lif.sam?.deletion);
    out.push({
      claim: 'SAM is sharper than the SNN-crafted Grad-CAM',
      measured: `energy in box SAM ${f(c.sam?.energy)} vs Grad-CAM ${f(c.gradcam?.energy)} (cluttered); deletion AUC SAM ${f(lif.sam?.deletion)} vs Grad-CAM ${f(lif.gradcam?.deletion)} (mnist-lif-bptt, lower is better)`,
      verdict: ok ? 'holds here' : 'does not hold here',
    });
  }

  // 3. Converted networks give less interpretable maps than BPTT ones.
  const conv = by('mnist-if-convert');
  if (lif && conv) {
    const ok = above(conv.sam?.deletion, lif.sam?.deletion) && above(lif.sam?.insertion, conv.sam?.insertion);
    out.push({
      claim: 'a network converted from an ANN gives less interpretable maps than one trained with BPTT',
      measured: `SAM deletion AUC BPTT ${f(lif.sam?.deletion)} vs converted ${f(conv.sam?.deletion)}; insertion ${f(lif.sam?.insertion)} vs ${f(conv.sam?.insertion)}`,
      verdict: ok ? 'holds here' : 'does not hold here',
    });
  }

  // 4. Leak changes how spikes carry information.
  const ifb = by('mnist-if-bptt');
  if (lif && ifb) {
    const differ = (a?: MeanCI, b?: MeanCI) => above(a, b) || above(b, a);
    const ok = differ(lif.sam?.deletion, ifb.sam?.deletion) || differ(lif.sam?.insertion, ifb.sam?.insertion);
    out.push({
      claim: 'leak (LIF against IF) changes how spikes carry information, and so the maps',
      measured: `SAM deletion AUC LIF ${f(lif.sam?.deletion)} vs IF ${f(ifb.sam?.deletion)}; insertion ${f(lif.sam?.insertion)} vs ${f(ifb.sam?.insertion)}`,
      verdict: ok ? 'holds here' : 'does not hold here',
    });
  }

  // 5. SNN maps stay stable under attack where an ANN's Grad-CAM does not.
  if (adv) {
    const sam = adv.shifts.find((x) => x.name.startsWith('SAM'));
    const ann = adv.shifts.find((x) => x.name.includes('ANN'));
    const k = 2; // eps 0.1
    const ok = !!sam && !!ann && above(ann.shift[k], sam.shift[k]) && above(sam.rank[k], ann.rank[k]);
    out.push({
      claim: "SNN maps (SAM) stay stable under attack where an ANN's Grad-CAM does not",
      measured: `PGD eps 0.1: map shift SAM ${f(sam?.shift[k])} vs ANN Grad-CAM ${f(ann?.shift[k])}; rank correlation ${f(sam?.rank[k])} vs ${f(ann?.rank[k])}`,
      verdict: sam && ann ? (ok ? 'holds here' : 'does not hold here') : 'not measurable here',
    });
    const snn = adv.curves.find((c) => c.model === 'mnist-lif-bptt' && c.method === 'pgd');
    const an = adv.curves.find((c) => c.model === 'mnist-ann' && c.method === 'pgd');
    if (snn && an)
      out.push({
        claim: 'the SNN keeps more accuracy under attack than its ANN',
        measured: `PGD-10 accuracy at eps 0.05 / 0.1: LIF-BPTT ${snn.accuracy[1].toFixed(3)} / ${snn.accuracy[2].toFixed(3)}, ANN ${an.accuracy[1].toFixed(3)} / ${an.accuracy[2].toFixed(3)}`,
        verdict: snn.accuracy[1] > an.accuracy[1] && snn.accuracy[2] > an.accuracy[2] ? 'holds here' : 'does not hold here',
      });
  }

  // 6. Given two objects, the spikes concentrate on one.
  if (local) {
    const sam = local.twoDigit.methods.sam;
    const ok = above(sam?.energy, sam?.energyOther);
    out.push({
      claim: "given two objects, the network's spikes concentrate on one (the predicted)",
      measured: `two digits, ${local.model}: SAM energy on the predicted digit's box ${f(sam?.energy)} vs the other's ${f(sam?.energyOther)}`,
      verdict: ok ? 'holds here' : 'does not hold here',
    });
  }
  return out;
}
