# Pretty-printing of values (nixpkgs lib/generators.nix: toPretty, withRecursion), as used by showDefs.
{ lib }:
let
  inherit (builtins) isInt isFloat isString isList isAttrs isFunction isPath length filter split elem mapAttrs addErrorContext functionArgs;
  inherit (lib.strings) escape replaceStrings concatStringsSep concatMapStringsSep escapeNixIdentifier;
  inherit (lib.lists) last init;
  inherit (lib.attrsets) mapAttrsToList;
in
rec {
  withRecursion = { depthLimit, throwOnDepthLimit ? true }:
    assert isInt depthLimit;
    let
      specialAttrs = [ "__functor" "__functionArgs" "__toString" "__pretty" ];
      stepIntoAttr = evalNext: name: if elem name specialAttrs then (x: x) else evalNext;
      transform = depth:
        if depthLimit != null && depth > depthLimit then
          if throwOnDepthLimit
          then throw "Exceeded maximum eval-depth limit of ${toString depthLimit} while trying to evaluate with `generators.withRecursion'!"
          else (_: "<unevaluated>")
        else (x: x);
      mapAny = depth: v:
        let evalNext = x: mapAny (depth + 1) (transform (depth + 1) x); in
        if isAttrs v then mapAttrs (stepIntoAttr evalNext) v
        else if isList v then map evalNext v
        else transform (depth + 1) v;
    in
    mapAny 0;

  toPretty = { allowPrettyValues ? false, multiline ? true, indent ? "" }:
    let
      go = indent: v:
        let
          introSpace = if multiline then "\n${indent}  " else " ";
          outroSpace = if multiline then "\n${indent}" else " ";
        in
        if isInt v then toString v
        else if isFloat v then builtins.toJSON v
        else if isString v then
          let
            lines = filter (v: !isList v) (split "\n" v);
            escapeSingleline = escape [ "\\" "\"" "\${" ];
            escapeMultiline = replaceStrings [ "\${" "''" ] [ "''\${" "'''" ];
            singlelineResult = "\"" + concatStringsSep "\\n" (map escapeSingleline lines) + "\"";
            multilineResult =
              let
                escapedLines = map escapeMultiline lines;
                lastLine = last escapedLines;
              in
              "''" + introSpace + concatStringsSep introSpace (init escapedLines)
              + (if lastLine == "" then outroSpace else introSpace + lastLine) + "''";
          in
          if multiline && length lines > 1 then multilineResult else singlelineResult
        else if true == v then "true"
        else if false == v then "false"
        else if null == v then "null"
        else if isPath v then toString v
        else if isList v then
          if v == [ ] then "[ ]"
          else "[" + introSpace + concatMapStringsSep introSpace (go (indent + "  ")) v + outroSpace + "]"
        else if isFunction v then
          let
            fna = functionArgs v;
            showFnas = concatStringsSep ", " (mapAttrsToList (name: hasDefVal: if hasDefVal then name + "?" else name) fna);
          in
          if fna == { } then "<function>" else "<function, args: {${showFnas}}>"
        else if isAttrs v then
          if allowPrettyValues && v ? __pretty && v ? val then v.__pretty v.val
          else if v == { } then "{ }"
          else if v ? type && v.type == "derivation" then "<derivation ${v.name or "???"}>"
          else
            "{" + introSpace
            + concatStringsSep introSpace (mapAttrsToList (name: value:
                "${escapeNixIdentifier name} = ${addErrorContext "while evaluating an attribute `${name}`" (go (indent + "  ") value)};") v)
            + outroSpace + "}"
        else abort "generators.toPretty: should never happen (v = ${v})";
    in
    go indent;
}
