import type { CliCommand } from '../types.js';
import { normalizeCommand } from './normalize.js';
import { replayCommand } from './replay.js';

/** Every `azure-mdr` command, in help order. Add a command by importing its module and listing it here. */
export const commands: readonly CliCommand[] = [normalizeCommand, replayCommand];
