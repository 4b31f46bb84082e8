// apply's progress where nothing can be redrawn (a pipe, a log file, CI): plain lines, each said once.
// listr2's simple renderer logs every task when it starts and again when it ends, and a skipped task
// with its title as the reason, so each line of the live view appeared twice. Here a task that runs
// hosts says its name when they start, each host its result when it is done, a skipped task one line,
// and a host that waits what it still waits for, each time that changes.
import { ListrTaskEventType, ListrTaskState, type ListrRendererFactory, type ListrTaskObject } from "listr2";

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Task = ListrTaskObject<any, ListrRendererFactory, ListrRendererFactory>;

const stamp = () => new Date().toTimeString().slice(0, 8);

export class PlainLines {
  static nonTTY = true;
  static rendererOptions: { write?: (line: string) => void } = {};
  static rendererTaskOptions = {};
  private readonly write: (line: string) => void;

  constructor(
    private readonly tasks: Task[],
    options: typeof PlainLines.rendererOptions,
  ) {
    this.write = options.write ?? ((line) => process.stdout.write(line + "\n"));
  }

  render(): void {
    this.watch(this.tasks);
  }

  end(): void {}

  private watch(tasks: Task[]): void {
    for (const task of tasks) {
      let parent = false;
      const say = (icon: string, text = task.title) => this.write(`${icon} [${stamp()}] ${text}`);
      // SUBTASK comes once the task runs (after its skip check): the header of the hosts that follow.
      task.on(ListrTaskEventType.SUBTASK, (subtasks: Task[]) => {
        parent = true;
        if (subtasks.length) say("❯");
        this.watch(subtasks);
      });
      // A wait's line ticks its counter on every poll: a log gets a line when what is missing changes.
      let waiting = "";
      task.on(ListrTaskEventType.OUTPUT, (text: string) => {
        const what = text.replace(/, \d+ s of \d+ s$/, "");
        if (what !== waiting) say("…", `${task.title}: ${text}`);
        waiting = what;
      });
      task.on(ListrTaskEventType.STATE, (state: ListrTaskState) => {
        if (state === ListrTaskState.SKIPPED) say("↓", `${task.title} (skipped)`);
        else if (parent) return;
        else if (state === ListrTaskState.COMPLETED) say("✔");
        // The error itself is the CLI's to print, once.
        else if (state === ListrTaskState.FAILED) say("✖", `${task.title}: failed`);
      });
    }
  }
}
