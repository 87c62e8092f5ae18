/**
 * Test files that use agents or networks directly (not through `npcforge` or the CLI, whose
 * backend module sets it) would otherwise meet tfjs's Node.js banner: set the same PROD flag.
 * `test/networks/quiet-tfjs.test.ts` checks the user's paths in child processes, where this setup
 * does not apply.
 */
import * as tf from '@tensorflow/tfjs';

tf.env().set('PROD', true);
