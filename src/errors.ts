/** Errors a person can act on: a code, an exit code, and a one-line message (no stack shown). */
export const EXIT_OK = 0;
export const EXIT_RUNTIME = 1;
export const EXIT_USAGE = 2;

export class FlowseekError extends Error {
  constructor(message: string, readonly code: string, readonly exitCode: number = EXIT_RUNTIME, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'FlowseekError';
  }
}

/** A bad flag or value: nothing was read or written. */
export class UsageError extends FlowseekError {
  constructor(message: string) {
    super(message, 'FS_USAGE', EXIT_USAGE);
    this.name = 'UsageError';
  }
}

/** Input that cannot be read (missing file, not a capture, bad filter). */
export class InputError extends FlowseekError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 'FS_INPUT', EXIT_RUNTIME, options);
    this.name = 'InputError';
  }
}

/** Output that cannot be written (unwritable path, full disk). */
export class OutputError extends FlowseekError {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, 'FS_OUTPUT', EXIT_RUNTIME, options);
    this.name = 'OutputError';
  }
}
