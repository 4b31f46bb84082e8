// Part of `npm run build`, after tsc: writes ajv's standalone validator for the spec schema
// (see src/spec-validator.ts), so the CLI does not compile the schema on every run.
import { writeFileSync } from "node:fs";
import { STANDALONE, standaloneValidator } from "../dist/spec-validator.js";

writeFileSync(STANDALONE, standaloneValidator());
