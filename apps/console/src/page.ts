/** A page draws itself into `root` and returns what stops its timers and requests. */
export type Page = (root: HTMLElement, params: string[]) => (() => void) | void;
