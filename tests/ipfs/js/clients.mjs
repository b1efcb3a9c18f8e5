// Independent IPFS clients against `tessera ipfs serve`: the official JS Kubo RPC client (kubo-rpc-client)
// and the reference CAR library (@ipld/car). Run by tests/ipfs/test_js_clients.py:
//
//   node tests/ipfs/js/clients.mjs <scenario> <input.json>
//
// prints one JSON object (the scenario's findings) on stdout; exits 1 with {"error": ...} on failure.
import { readFile } from 'node:fs/promises'
import { CarReader } from '@ipld/car'
import { create } from 'kubo-rpc-client'
import { createHash } from 'node:crypto'

async function concat (chunks) {
  const parts = []
  for await (const chunk of chunks) parts.push(chunk)
  return Buffer.concat(parts)
}

// Every block of a CAR, checked against its CID by this library (not by the server).
async function parseCar (bytes) {
  const reader = await CarReader.fromBytes(bytes)
  const blocks = []
  for await (const { cid, bytes: data } of reader.blocks()) {
    const digest = createHash('sha256').update(data).digest()
    const verified = cid.multihash.code === 0x12 && Buffer.compare(digest, Buffer.from(cid.multihash.digest)) === 0
    blocks.push({ cid: cid.toString(), codec: cid.code, size: data.length, verified })
  }
  return { version: reader.version, roots: (await reader.getRoots()).map(String), blocks }
}

const scenarios = {
  // add each file with the Kubo RPC client (a chunked upload under Node), then cat it back
  async 'add-cat' ({ url, files }) {
    const client = create({ url })
    const added = []
    for (const { path, cidVersion, rawLeaves } of files) {
      const data = await readFile(path)
      const options = { cidVersion }
      if (rawLeaves !== null) options.rawLeaves = rawLeaves
      const { cid, size } = await client.add(data, options)
      const back = await concat(client.cat(cid))
      added.push({ cid: cid.toString(), size, same: Buffer.compare(back, data) === 0 })
    }
    return { added }
  }
}

const [scenario, inputPath] = process.argv.slice(2)
try {
  const input = JSON.parse(await readFile(inputPath, 'utf8'))
  const result = await scenarios[scenario](input)
  process.stdout.write(JSON.stringify(result) + '\n')
} catch (err) {
  process.stdout.write(JSON.stringify({ error: `${err.name}: ${err.message}`, cause: String(err.cause ?? '') }) + '\n')
  process.exit(1)
}
