/** Path parameter (the API's name) → the positional argument that filled it: as `--help` shows it, and as typed. */
export type PathArgs = Readonly<Record<string, readonly [shown: string, value: string]>>;

/** A request path filled with the user's positional arguments, so that a refusal of one names it as `--help` shows it. */
export interface ArgPath {
  readonly path: string;
  readonly args: PathArgs;
}

/**
 * `argPath('/v1/orders/{id}/cancel', { id: ['<idOrReference>', ref] })`: each `{param}` (the API's
 * name for the segment, which its refusals use) is filled with the argument, encoded.
 */
export function argPath(template: string, args: PathArgs): ArgPath {
  return { path: template.replace(/\{(\w+)\}/g, (_, param: string) => encodeURIComponent(args[param]![1])), args };
}
