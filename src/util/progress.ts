/** What long-running library work reports to; the CLI plugs in its progress bars. */
export interface ProgressSink {
  tick(n?: number, info?: Record<string, string | number>): void;
  done(info?: Record<string, string | number>): void;
}

export type ProgressFactory = (label: string, total: number, unit: string) => ProgressSink;

export const silentProgress: ProgressFactory = () => ({ tick() {}, done() {} });
