// Private, atomic state files in the data directory (keys, enrolment, config state).
export { readJsonFile, readTextFile, writeFileAtomic } from './atomic-file.ts';
