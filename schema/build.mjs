// Part of `npm run build`, after tsc: writes ajv's standalone validator for the spec schema
// (see src/spec-validator.ts), so the CLI does not compile the schema on every run.
import { writeFileSync } from "node:fs";
import { STANDALONE, standaloneValidator } from "../dist/spec-validator.js";
import { PLAYBOOK_STANDALONE, playbookStandalone } from "../dist/playbook.js";

writeFileSync(STANDALONE, standaloneValidator());
// The playbook schema too (src/playbook.ts): apply then loads no ajv before it connects (issue 16).
writeFileSync(PLAYBOOK_STANDALONE, playbookStandalone());
