import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * Files that start servers, CLIs or a browser as processes run first. Each takes 10-30 s where most
 * files take one or two; vitest orders by last run's durations when it has them, but a clean
 * checkout (CI) has none and it falls back to file size, which left such files to the end of the
 * run, one worker finishing them while the other sat idle.
 */
export default class ProcessesFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const startsProcesses = (file: TestSpecification) => /[/\\]test[/\\](e2e|drills)[/\\]/.test(file.moduleId);
    return [...sorted.filter(startsProcesses), ...sorted.filter((file) => !startsProcesses(file))];
  }
}
