// An error that carries a machine-readable code beside the sentence a user can act on. The
// pipeline's failures are these, so the edge and the logs get both.
export class CodedError<Code extends string = string> extends Error {
  constructor(
    readonly code: Code,
    message: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}
