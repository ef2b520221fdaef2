// Types of campaign.mjs for the TypeScript tests (the harness is plain JavaScript so that `pnpm fuzz` needs no build).

export interface FuzzCase {
  family: string;
  what: string[];
  files: Array<{ path: string; build?: () => Uint8Array | Promise<Uint8Array>; dir?: boolean; symlink?: string; fifo?: boolean }>;
  out: 'absent' | 'empty' | 'stale' | null;
  argv: string[];
  mode: 'pool' | 'bin' | 'epipe-closed' | 'epipe-head';
  heavy?: boolean;
  slow?: boolean;
  seed?: number;
  index?: number;
}

export interface Violation {
  cls: string;
  detail: string;
  pattern?: string;
}

export interface CaseRecord {
  index: number;
  family: string;
  what: string[];
  argv: string[];
  mode: string;
  result: { kind: string; code?: number; err: string[]; errLines?: number; ms: number; peakMb?: number } | null;
  violations: Violation[];
}

export interface CampaignResult {
  seed: number;
  start: number;
  count: number;
  seconds: number;
  records: CaseRecord[];
  failures: CaseRecord[];
  strays: string[];
  restarts: number;
}

export interface CampaignOptions {
  seed?: number;
  cases?: number;
  start?: number;
  families?: string[];
  workers?: number;
  wallMs?: number;
  killMb?: number;
  heapMb?: number;
  binEvery?: number;
  quick?: boolean;
  mainFile?: string;
  binFile?: string;
  workDir?: string;
  reproDir?: string;
  caseAt?: (index: number) => FuzzCase;
  log?: (line: string) => void;
  onCase?: (record: CaseRecord) => void;
}

export function campaign(options: CampaignOptions): Promise<CampaignResult>;
export function report(result: CampaignResult, options?: { reproDir?: string; maxGroups?: number }): string;
export function commandLine(argv: string[]): string;
export function epipeCases(n?: number): FuzzCase[];
export const STUB_MAIN: string;
