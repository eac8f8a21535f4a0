# String functions (nixpkgs lib/strings.nix), the ones this stand-in needs.
{ lib }:
let
  inherit (builtins) length elemAt genList stringLength substring replaceStrings concatStringsSep filter isList split match;
  lowerChars = lib.lists.map (n: substring n 1 "abcdefghijklmnopqrstuvwxyz") (genList (x: x) 26);
  upperChars = lib.lists.map (n: substring n 1 "ABCDEFGHIJKLMNOPQRSTUVWXYZ") (genList (x: x) 26);
in
rec {
  inherit (builtins) concatStringsSep replaceStrings stringLength substring isString toJSON match split;

  concatStrings = concatStringsSep "";
  concatMapStrings = f: list: concatStrings (map f list);
  concatMapStringsSep = sep: f: list: concatStringsSep sep (map f list);
  concatLines = list: concatStrings (map (s: s + "\n") list);
  intersperse = separator: list:
    if list == [ ] || length list == 1 then list
    else builtins.tail (builtins.concatMap (x: [ separator x ]) list);
  optionalString = cond: string: if cond then string else "";

  toUpper = replaceStrings lowerChars upperChars;
  toLower = replaceStrings upperChars lowerChars;

  hasPrefix = pref: str: substring 0 (stringLength pref) str == pref;
  hasSuffix = suffix: content:
    let lenContent = stringLength content; lenSuffix = stringLength suffix; in
    lenContent >= lenSuffix && substring (lenContent - lenSuffix) lenContent content == suffix;
  hasInfix = infix: content: builtins.match ".*${escapeRegex infix}.*" "${content}" != null;
  removePrefix = prefix: str:
    if hasPrefix prefix str then substring (stringLength prefix) (stringLength str - stringLength prefix) str else str;
  removeSuffix = suffix: str:
    if hasSuffix suffix str then substring 0 (stringLength str - stringLength suffix) str else str;

  stringToCharacters = s: genList (p: substring p 1 s) (stringLength s);
  splitString = sep: s:
    map (v: builtins.unsafeDiscardStringContext v) (filter builtins.isString (split (escapeRegex (toString sep)) (toString s)));

  escape = list: replaceStrings list (map (c: "\\${c}") list);
  escapeRegex = escape (stringToCharacters "\\[{()^$?*+|.");
  escapeShellArg = arg: "'${replaceStrings [ "'" ] [ "'\\''" ] (toString arg)}'";
  escapeNixString = s: escape [ "$" ] (builtins.toJSON s);
  escapeNixIdentifier = s:
    if match "[a-zA-Z_][a-zA-Z0-9_'-]*" s != null then s else escapeNixString s;

  isStringLike = x: builtins.isString x || builtins.isPath x || x ? outPath || x ? __toString;
  isConvertibleWithToString = x:
    isStringLike x || builtins.elem (builtins.typeOf x) [ "null" "int" "float" "bool" ]
    || (builtins.isList x && builtins.all isConvertibleWithToString x);

  # Edit distance, as lib.strings.levenshtein (a row-by-row dynamic program).
  levenshtein = a: b:
    let
      as = stringToCharacters a;
      bs = stringToCharacters b;
      lb = length bs;
      step = prev: ca:
        builtins.foldl' (row: j:
          let
            cb = elemAt bs (j - 1);
            del = elemAt prev j + 1;
            ins = elemAt row (j - 1) + 1;
            sub = elemAt prev (j - 1) + (if ca == cb then 0 else 1);
          in
          row ++ [ (lib.trivial.min del (lib.trivial.min ins sub)) ]
        ) [ (builtins.head prev + 1) ] (lib.lists.range 1 lb);
      last = builtins.foldl' step (genList (j: j) (lb + 1)) as;
    in
    elemAt last lb;
  levenshteinAtMost = k: a: b: levenshtein a b <= k;
}
