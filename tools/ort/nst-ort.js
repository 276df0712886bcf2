#!/usr/bin/env node
// ONNX Runtime (CPU) on a model written by tools/nst-onnx: the baseline of
// `make bench`, and the check that the exported model computes our network.
//
//   nst-ort.js time MODEL.onnx WxH [-n FRAMES] [-w WARMUP] [-j THREADS]
//       prints "WxH MEDIAN_MS FRAMES" (ms per frame, median after warm-up)
//   nst-ort.js run MODEL.onnx WxH IN.rgb OUT.rgb
//       styles one raw rgb24 frame, rounds as libnst does (floor(v + 0.5))
//   nst-ort.js version
//       loads onnxruntime-node and prints its version
//
// onnxruntime-node is found through NODE_PATH (tools/bench.sh installs it
// into build/ort). Threads: 2 intra-op (the machine's cores), 1 inter-op,
// sequential execution, all graph optimizations: ORT's usual CPU setup.
'use strict';
const fs = require('fs');

function usage() {
  console.error('usage: nst-ort.js time MODEL.onnx WxH [-n FRAMES] [-w WARMUP] [-j THREADS]\n' +
                '       nst-ort.js run MODEL.onnx WxH IN.rgb OUT.rgb\n' +
                '       nst-ort.js version');
  process.exit(2);
}

function parseSize(s) {
  const m = /^(\d+)x(\d+)$/.exec(s || '');
  if (!m) usage();
  return [Number(m[1]), Number(m[2])];
}

// Interleaved rgb24 bytes -> planar float32 [1, 3, H, W], 0..255.
function toTensor(ort, rgb, w, h) {
  const n = w * h, data = new Float32Array(3 * n);
  for (let i = 0; i < n; i++)
    for (let c = 0; c < 3; c++) data[c * n + i] = rgb[3 * i + c];
  return new ort.Tensor('float32', data, [1, 3, h, w]);
}

function toRgb(data, w, h) {
  const n = w * h, rgb = Buffer.alloc(3 * n);
  for (let i = 0; i < n; i++)
    for (let c = 0; c < 3; c++)
      rgb[3 * i + c] = Math.min(255, Math.max(0, Math.floor(data[c * n + i] + 0.5)));
  return rgb;
}

async function main(argv) {
  const [mode, model, size, ...rest] = argv;
  if (mode === 'version') {
    console.log(require('onnxruntime-node').env.versions.node);
    return;
  }
  if (!mode || !model) usage();
  const [w, h] = parseSize(size);
  let frames = 3, warmup = 1, threads = 2;
  const files = [];
  for (let i = 0; i < rest.length; i++) {
    if (rest[i] === '-n') frames = Number(rest[++i]);
    else if (rest[i] === '-w') warmup = Number(rest[++i]);
    else if (rest[i] === '-j') threads = Number(rest[++i]);
    else files.push(rest[i]);
  }
  if (!(frames >= 1 && warmup >= 0 && threads >= 1)) usage();

  const ort = require('onnxruntime-node');
  const session = await ort.InferenceSession.create(model, {
    intraOpNumThreads: threads, interOpNumThreads: 1,
    executionMode: 'sequential', graphOptimizationLevel: 'all',
    logSeverityLevel: 3, // errors only: its warnings are not the bench's
  });

  if (mode === 'run') {
    if (files.length !== 2) usage();
    const rgb = fs.readFileSync(files[0]);
    if (rgb.length !== 3 * w * h)
      throw new Error(`${files[0]}: ${rgb.length} bytes, not ${w}x${h} rgb24`);
    const out = await session.run({ input: toTensor(ort, rgb, w, h) });
    fs.writeFileSync(files[1], toRgb(out.output.data, w, h));
    return;
  }
  if (mode !== 'time' || files.length) usage();
  // The same synthetic frame as build/nst-bench: the content does not change
  // the work a dense network does.
  const rgb = Buffer.alloc(3 * w * h);
  for (let i = 0; i < rgb.length; i++) rgb[i] = Number((BigInt(i) * 2654435761n >> 24n) & 255n);
  const feed = { input: toTensor(ort, rgb, w, h) };
  for (let i = 0; i < warmup; i++) await session.run(feed);
  const ms = [];
  for (let i = 0; i < frames; i++) {
    const t = process.hrtime.bigint();
    await session.run(feed);
    ms.push(Number(process.hrtime.bigint() - t) / 1e6);
  }
  ms.sort((a, b) => a - b);
  console.log(`${w}x${h} ${ms[frames >> 1].toFixed(1)} ${frames}`);
}

main(process.argv.slice(2)).catch((e) => {
  console.error(`nst-ort: ${e.message || e}`);
  process.exit(1);
});
