// The official OpenAI JS SDK, unmodified: images.edit and images.generate with stream: true against the URL given,
// each event printed as one JSON line (type, ms since the call, and what the Python test checks).
// Usage: RETOUCH_SYNC_URL=http://127.0.0.1:3001 RETOUCH_API_KEY=... node stream_images.mjs image.png
import fs from "node:fs";
import OpenAI, { toFile } from "openai";

const client = new OpenAI({ baseURL: `${process.env.RETOUCH_SYNC_URL}/v1`, apiKey: process.env.RETOUCH_API_KEY,
                            maxRetries: 0, timeout: 120_000 });

function line(call, started, event) {
  console.log(JSON.stringify({ call, type: event.type, ms: Date.now() - started,
                               partial_image_index: event.partial_image_index ?? null,
                               size: event.size, output_format: event.output_format,
                               b64_json: event.type.endsWith(".completed") ? event.b64_json : null,
                               output_tokens: event.usage ? event.usage.output_tokens : null }));
}

const image = await toFile(fs.readFileSync(process.argv[2]), "photo.png", { type: "image/png" });
let started = Date.now();
const edit = await client.images.edit({ model: "gpt-image-2", image, prompt: "a red hat", size: "1024x1536",
                                        output_format: "webp", stream: true, partial_images: 2 });
for await (const event of edit) line("edit", started, event);

started = Date.now();
const generation = await client.images.generate({ model: "gpt-image-2", prompt: "a lighthouse", size: "1024x1024",
                                                  stream: true });
for await (const event of generation) line("generate", started, event);
