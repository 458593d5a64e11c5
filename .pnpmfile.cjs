// pnpm hooks, applied at resolution (the lockfile records this file's checksum).
module.exports = {
  hooks: {
    // An optional peer dependency on TypeScript serves a package's type definitions only.
    // pnpm fills it from the root's devDependencies, and `pnpm deploy --prod` then ships the
    // compiler with the app (valibot, under bull-board, did): production runs no TypeScript.
    readPackage(pkg) {
      if (pkg.peerDependenciesMeta?.typescript?.optional) {
        delete pkg.peerDependencies?.typescript;
        delete pkg.peerDependenciesMeta.typescript;
      }
      return pkg;
    },
  },
};
