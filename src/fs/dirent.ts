/**
 * Directory entries as `fs.promises.readdir(path, { withFileTypes: true })` gives them, for
 * code written against `fs`: the entry's name, the directory it is in, and what it is.
 * @module
 */
import { basename, dirname } from '../path.js';
import type { FileInfo } from '../options.js';

/** One entry of `readdir(path, { withFileTypes: true })`, shaped like `fs.Dirent`, with its {@link FileInfo}. */
export class StrataDirent {
  /** The entry's name (its last path component, also in recursive listings). */
  readonly name: string;
  /** The logical path of the directory it is in. */
  readonly parentPath: string;

  constructor(
    /** What `stat` knows of the entry (as `readdir` with `withInfo` gives it). */
    readonly info: FileInfo,
  ) {
    this.name = basename(info.path);
    this.parentPath = dirname(info.path);
  }

  /** The same as {@link parentPath} (`fs.Dirent.path`, an older name of it). */
  get path(): string {
    return this.parentPath;
  }

  /** True for a file. */
  isFile(): boolean {
    return this.info.type === 'file';
  }

  /** True for a directory (mount points below the listed directory too). */
  isDirectory(): boolean {
    return this.info.type === 'directory';
  }

  /** Always false: stratafs lists files and directories only. */
  isSymbolicLink(): boolean {
    return false;
  }

  /** Always false (see {@link isSymbolicLink}). */
  isBlockDevice(): boolean {
    return false;
  }

  /** Always false (see {@link isSymbolicLink}). */
  isCharacterDevice(): boolean {
    return false;
  }

  /** Always false (see {@link isSymbolicLink}). */
  isFIFO(): boolean {
    return false;
  }

  /** Always false (see {@link isSymbolicLink}). */
  isSocket(): boolean {
    return false;
  }
}
