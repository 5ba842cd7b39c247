/**
 * Everything a run opened (processes, databases, directories), closed in reverse order on the
 * way out, each step whatever became of the others: a failed step is reported, not thrown.
 */
export class Cleanup {
  private readonly steps: { name: string; run: () => Promise<unknown> | unknown }[] = [];

  add(name: string, run: () => Promise<unknown> | unknown): void {
    this.steps.push({ name, run });
  }

  /** Runs every step added so far, newest first (an arrow, so it can be handed to afterAll). */
  readonly runAll = async (): Promise<void> => {
    while (this.steps.length > 0) {
      const step = this.steps.pop()!;
      try {
        await step.run();
      } catch (error) {
        console.error(`cleanup: ${step.name} failed: ${(error as Error).message}`);
      }
    }
  };
}
