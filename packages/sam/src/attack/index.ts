export { attack, checkAttack, crossEntropy, roundHalfEven, ATTACK_METHODS } from './attack.js';
export type { AttackMethod, AttackOptions, AttackResult } from './attack.js';
