# Small general functions (nixpkgs lib/trivial.nix).
{ lib }:
let
  esc = builtins.fromJSON ''"\u001b"'';
in
rec {
  id = x: x;
  const = x: _: x;
  flip = f: a: b: f b a;
  pipe = builtins.foldl' (x: f: f x);
  concat = x: y: x ++ y;
  "or" = x: y: x || y;
  and = x: y: x && y;
  mergeAttrs = x: y: x // y;
  min = x: y: if x < y then x else y;
  max = x: y: if x > y then x else y;
  boolToString = b: if b then "true" else "false";
  inherit (builtins) seq deepSeq addErrorContext functionArgs isFunction typeOf trace;
  setFunctionArgs = f: args: { __functor = self: f; __functionArgs = args; };

  # Nix 2.8 has no builtins.warn: nixpkgs falls back to a coloured trace.
  warn =
    if builtins ? warn then builtins.warn
    else msg: builtins.trace "${esc}[1;35mwarning:${esc}[0m ${msg}";
  warnIf = cond: msg: if cond then warn msg else x: x;
  warnIfNot = cond: msg: if cond then x: x else warn msg;
  throwIf = cond: msg: if cond then throw msg else x: x;
  throwIfNot = cond: msg: if cond then x: x else throw msg;
  showWarnings = warnings: res: lib.lists.foldr (w: x: warn w x) res warnings;

  assertMsg = pred: msg: pred || builtins.throw msg;

  isType = type: x: (x._type or "") == type;
  setType = typeName: value: value // { _type = typeName; };
}
