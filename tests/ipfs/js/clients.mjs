// Independent IPFS clients against `tessera ipfs serve`: the official JS Kubo RPC client (kubo-rpc-client)
// and the reference CAR library (@ipld/car). Run by tests/ipfs/test_js_clients.py:
//
//   node tests/ipfs/js/clients.mjs <scenario> <input.json>
//
// prints one JSON object (the scenario's findings) on stdout; exits 1 with {"error": ...} on failure.
import { readFile } from 'node:fs/promises'
import { CarReader, CarWriter } from '@ipld/car'
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

// A CAR of `blocks` under `roots`, written by @ipld/car (its own header and section encoding).
async function writeCar (roots, blocks) {
  const { writer, out } = CarWriter.create(roots)
  const collected = concat(out)
  for (const block of blocks) await writer.put(block)
  await writer.close()
  return collected
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
  },

  // add a file the server must refuse; what the client is told
  async 'add-refused' ({ url, path }) {
    try {
      await create({ url }).add(await readFile(path))
      return { refused: false }
    } catch (err) {
      return { refused: true, status: err.response?.status ?? null, message: err.message }
    }
  },

  // the CAR of `cid` three ways from `url`, parsed and re-encoded by @ipld/car; imported into `emptyUrl`
  // in another block order with the Kubo RPC client, then read back; a forged CAR is refused there
  async car ({ url, emptyUrl, cid, path }) {
    const accept = await fetch(`${url}/ipfs/${cid}`, { headers: { Accept: 'application/vnd.ipld.car' } })
    const car = Buffer.from(await accept.arrayBuffer())
    const query = Buffer.from(await (await fetch(`${url}/ipfs/${cid}?format=car`)).arrayBuffer())
    const rpc = await concat(create({ url }).dag.export(cid))
    const parsed = await parseCar(car)
    const reader = await CarReader.fromBytes(car)
    const roots = await reader.getRoots()
    const blocks = []
    for await (const block of reader.blocks()) blocks.push(block)
    const rewritten = await writeCar(roots, blocks)

    const target = create({ url: emptyUrl })
    const imported = []
    for await (const { root } of target.dag.import([await writeCar(roots, [...blocks].reverse())])) {
      imported.push({ cid: root.cid.toString(), pinErrorMsg: root.pinErrorMsg })
    }
    const back = await concat(target.cat(cid))
    const forgedBlocks = blocks.map(({ cid, bytes }, i) =>
      ({ cid, bytes: i === blocks.length - 1 ? Uint8Array.from(bytes, (b, j) => j === 0 ? b ^ 1 : b) : bytes }))
    let forgedError = null
    try {
      for await (const _ of target.dag.import([await writeCar(roots, forgedBlocks)])) { /* drain */ }
    } catch (err) {
      forgedError = err.message
    }
    return {
      contentType: accept.headers.get('content-type'),
      ...parsed,
      identicalWhenRewritten: Buffer.compare(rewritten, car) === 0,
      sameByQuery: Buffer.compare(query, car) === 0,
      sameByRpc: Buffer.compare(rpc, car) === 0,
      imported,
      readBack: Buffer.compare(back, await readFile(path)) === 0,
      forgedError
    }
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
