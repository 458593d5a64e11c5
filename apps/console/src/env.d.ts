/// <reference types="vite/client" />

/** Where the build put onnxruntime-web's runtime files (versioned, see vite.config.ts). */
declare const __ORT_PATH__: string;
