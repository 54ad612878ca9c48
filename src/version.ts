// The version string: injected by build.ts (`define`), else read from package.json in development.
import pkg from "../package.json" with { type: "json" };

declare const SEP_VERSION: string | undefined;

export const VERSION: string = typeof SEP_VERSION === "string" ? SEP_VERSION : pkg.version;
