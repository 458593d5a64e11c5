// `npm run setup`: everything `npm start` and `npm test` need, without starting anything.
import { ensureDependencies, ensureModel, ensureRedisServer } from './lib.mjs';

ensureDependencies();
await ensureModel();
if (!process.env.REDIS_URL) ensureRedisServer();
