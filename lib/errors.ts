/**
 * The base of every error the bridge throws on purpose. Subclasses carry their context as readonly
 * fields, pass the underlying failure on as `cause`, and name themselves with a class field, so the
 * name survives minification (the bundles are minified).
 */
export abstract class BridgeError extends Error {
  abstract override readonly name: string;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
