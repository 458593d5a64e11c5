// `npm run setup`: everything `npm start` and `npm test` need, without starting anything.
import { ensureConsole, ensureDependencies, ensureModel, ensureRedisServer } from './lib.mjs';

ensureDependencies();
ensureConsole();
await ensureModel();
if (!process.env.REDIS_URL) ensureRedisServer();
