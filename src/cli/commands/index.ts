import type { CliCommand } from '../types.js';
import { alertStateCommand } from './alertState.js';
import { bindingsCommand } from './bindings.js';
import { coverageCommand } from './coverage.js';
import { healthCommand } from './health.js';
import { normalizeCommand } from './normalize.js';
import { rebalanceCommand } from './rebalance.js';
import { reconcileCommand } from './reconcile.js';
import { replayCommand } from './replay.js';
import { templateCommand } from './template.js';

/** Every `azure-mdr` command, in help order. Add a command by importing its module and listing it here. */
export const commands: readonly CliCommand[] = [normalizeCommand, replayCommand, reconcileCommand, coverageCommand, templateCommand, healthCommand, alertStateCommand, bindingsCommand, rebalanceCommand];
