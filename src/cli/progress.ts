/**
 * Progress of long work (`load`, `cp -r`) on stderr: a live bar on a terminal (cli-progress),
 * plain lines otherwise (at the start, at most one per second, and at the end).
 * @module
 */
import cliProgress from 'cli-progress';
import { formatBytes, formatDuration } from './format.js';

/** Where the work stands. */
export interface ProgressFigures {
  bytes: number;
  totalBytes: number;
  files: number;
  totalFiles: number;
}

/** Reports {@link ProgressFigures} as they change; `stop()` prints the final state. */
export interface ProgressReporter {
  update(figures: ProgressFigures): void;
  stop(): void;
}

/** Options of {@link createProgress}. */
export interface ProgressOptions {
  /** Where to write; default `process.stderr`. */
  stream?: NodeJS.WriteStream;
  /** Draw a live bar; default: when `stream` is a terminal. */
  tty?: boolean;
  /** Milliseconds between plain lines; default 1000. */
  interval?: number;
}

/** A reporter labelled `label` (e.g. `load /data`). */
export function createProgress(label: string, options: ProgressOptions = {}): ProgressReporter {
  const stream = options.stream ?? process.stderr;
  const tty = options.tty ?? stream.isTTY === true;
  return tty ? new BarProgress(label, stream) : new LineProgress(label, stream, options.interval ?? 1000);
}

/** Rate (bytes/s) and ETA (s) from the start time. */
function pace(figures: ProgressFigures, started: number): { rate: number; eta: number } {
  const seconds = (Date.now() - started) / 1000;
  const rate = seconds > 0 ? figures.bytes / seconds : 0;
  const left = figures.totalBytes - figures.bytes;
  return { rate, eta: left <= 0 ? 0 : rate > 0 ? left / rate : NaN };
}

function percent(figures: ProgressFigures): number {
  if (figures.totalBytes > 0) return Math.floor((figures.bytes / figures.totalBytes) * 100);
  return figures.totalFiles > 0 ? Math.floor((figures.files / figures.totalFiles) * 100) : 100;
}

class LineProgress implements ProgressReporter {
  readonly #started = Date.now();
  #last: ProgressFigures | undefined;
  #printedAt = 0;

  constructor(
    private readonly label: string,
    private readonly stream: NodeJS.WritableStream,
    private readonly interval: number,
  ) {}

  update(figures: ProgressFigures): void {
    const first = this.#last === undefined;
    this.#last = { ...figures };
    if (first || Date.now() - this.#printedAt >= this.interval) this.#print();
  }

  stop(): void {
    if (this.#last) this.#print();
  }

  #print(): void {
    const f = this.#last!;
    const { rate, eta } = pace(f, this.#started);
    this.#printedAt = Date.now();
    this.stream.write(
      `${this.label}: ${f.files}/${f.totalFiles} files, ${formatBytes(f.bytes)}/${formatBytes(f.totalBytes)} (${percent(f)}%), ${formatBytes(rate)}/s, ETA ${formatDuration(eta)}\n`,
    );
  }
}

class BarProgress implements ProgressReporter {
  readonly #started = Date.now();
  readonly #bar: cliProgress.SingleBar;
  #running = false;

  constructor(label: string, stream: NodeJS.WritableStream) {
    this.#bar = new cliProgress.SingleBar({
      format: `${label} [{bar}] {pct}% | {done}/{size} | {files}/{totalFiles} files | {rate}/s | ETA {etaText}`,
      stream,
      hideCursor: true,
      clearOnComplete: false,
      barsize: 30,
      fps: 10,
    }, cliProgress.Presets.shades_classic);
  }

  update(figures: ProgressFigures): void {
    const { rate, eta } = pace(figures, this.#started);
    const total = Math.max(1, figures.totalBytes);
    const value = figures.totalBytes > 0 ? figures.bytes : figures.files >= figures.totalFiles ? 1 : 0;
    const payload = {
      pct: percent(figures),
      done: formatBytes(figures.bytes),
      size: formatBytes(figures.totalBytes),
      files: figures.files,
      totalFiles: figures.totalFiles,
      rate: formatBytes(rate),
      etaText: formatDuration(eta),
    };
    if (!this.#running) {
      this.#running = true;
      this.#bar.start(total, value, payload);
    } else {
      this.#bar.setTotal(total);
      this.#bar.update(value, payload);
    }
  }

  stop(): void {
    if (this.#running) this.#bar.stop();
    this.#running = false;
  }
}
