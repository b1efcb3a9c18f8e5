// Vite builds the dashboard into build/ (ignored by git); `tessera dashboard` serves it.
import { defineConfig } from "vite";

export default defineConfig({
  base: "./",
  build: {
    outDir: "build",
    emptyOutDir: true,
    target: "es2022",
    sourcemap: false,
    chunkSizeWarningLimit: 1024,
  },
  server: { host: "127.0.0.1", fs: { allow: [".."] } },
});
