import { InProcessRunner } from './in-process-runner.ts';
import { runnerCases } from './runner.case.ts';

runnerCases('in-process', (clock) => new InProcessRunner({ clock }));
