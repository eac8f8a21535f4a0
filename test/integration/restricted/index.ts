// The Restricted Mode suite's entry: the in-host runner, for the tests beside this file. The workspace is opened
// with Workspace Trust on and not trusted (test/harness/restricted.ts).
import { runSuite } from '../index';

export function run(): Promise<void> {
  return runSuite(__dirname);
}
