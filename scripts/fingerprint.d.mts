export declare const ROOT: string;
export declare const STAMP: string;
export declare function typescriptVersion(): string | undefined;
export declare function fingerprint(tsVersion: string): string;
export declare function builtIsFresh(): boolean;
