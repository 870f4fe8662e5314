// The fake OpenAI-compatible model in a process of its own, for the load benchmark: it streams a
// fixed reply at a fixed token rate, so differences in timing are the platform's. Prints its URL.
import { startFakeOpenAi } from '../tests/helpers/fake-openai.ts';

const fake = await startFakeOpenAi();
fake.tokenDelayMs = Number(process.argv[2] ?? 20);
const reply = Array.from({ length: 20 }, (_, i) => `word${i}`).join(' ');
fake.reply = () => `${reply}. Go to the emergency department.`;
console.log(fake.url);
process.on('SIGTERM', () => void fake.close().then(() => process.exit(0)));
