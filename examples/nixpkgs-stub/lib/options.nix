# Option declarations and the helpers that print them (nixpkgs lib/options.nix).
{ lib }:
let
  inherit (builtins) head tail length all isFunction isList isAttrs isBool isString isInt filter foldl' concatLists catAttrs;
  inherit (lib.strings) concatStringsSep concatMapStrings;
  inherit (lib.lists) take optional toList last;
  prioritySuggestion = ''
    Use `lib.mkForce value` or `lib.mkDefault value` to change the priority on any of these definitions.
  '';
in
rec {
  isOption = lib.trivial.isType "option";

  mkOption =
    { default ? null, defaultText ? null, example ? null, description ? null, relatedPackages ? null
    , type ? null, apply ? null, internal ? null, visible ? null, readOnly ? null
    }@attrs:
    attrs // { _type = "option"; };

  mkEnableOption = name: mkOption {
    default = false;
    example = true;
    description = "Whether to enable ${name}.";
    type = lib.types.bool;
  };

  mkPackageOption = pkgs: name: { nullable ? false, default ? name, example ? null, extraDescription ? "", pkgsText ? "pkgs" }:
    let
      name' = if isList name then last name else name;
      default' = toList default;
      defaultText = lib.attrsets.showAttrPath default';
      defaultValue = lib.attrsets.attrByPath default' (throw "${defaultText} cannot be found in ${pkgsText}") pkgs;
    in
    mkOption ({
      description = "The ${name'} package to use." + (if extraDescription == "" then "" else " ") + extraDescription;
      type = (if nullable then lib.types.nullOr else (t: t)) lib.types.package;
    } // (if default != null then { default = defaultValue; defaultText = literalExpression "${pkgsText}.${defaultText}"; }
          else lib.attrsets.optionalAttrs nullable { default = null; }));

  literalExpression = text:
    if !isString text then throw "literalExpression expects a string." else { _type = "literalExpression"; inherit text; };
  literalMD = text:
    if !isString text then throw "literalMD expects a string." else { _type = "literalMD"; inherit text; };

  mergeDefaultOption = loc: defs:
    let list = getValues defs; in
    if length list == 1 then head list
    else if all isFunction list then x: mergeDefaultOption loc (map (f: f x) list)
    else if all isList list then concatLists list
    else if all isAttrs list then foldl' lib.trivial.mergeAttrs { } list
    else if all isBool list then foldl' lib.trivial."or" false list
    else if all isString list then lib.strings.concatStrings list
    else if all isInt list && all (x: x == head list) list then head list
    else throw "Cannot merge definitions of `${showOption loc}'. Definition values:${showDefs defs}";

  mergeOneOption = mergeUniqueOption { message = ""; };

  mergeUniqueOption = { message, merge ? loc: defs: (head defs).value }: loc: defs:
    if length defs == 1 then merge loc defs
    else
      assert length defs > 1;
      throw "The option `${showOption loc}' is defined multiple times while it's expected to be unique.\n${message}\nDefinition values:${showDefs defs}\n${prioritySuggestion}";

  mergeEqualOption = loc: defs:
    if defs == [ ] then abort "This case should never happen."
    else if length defs == 1 then (head defs).value
    else
      (foldl' (first: def:
        if def.value != first.value then
          throw "The option `${showOption loc}' has conflicting definition values:${showDefs [ first def ]}\n${prioritySuggestion}"
        else first
      ) (head defs) (tail defs)).value;

  getValues = catAttrs "value";
  getFiles = catAttrs "file";

  showOption = parts:
    let
      isNamedPlaceholder = builtins.match "<(.*)>";
      escapeOptionPart = part:
        if part == "*" || isNamedPlaceholder part != null then part else lib.strings.escapeNixIdentifier part;
    in
    concatStringsSep "." (map escapeOptionPart parts);

  showFiles = files: concatStringsSep " and " (map (f: "`${f}'") files);

  showDefs = defs: concatMapStrings (def:
    let
      # Pretty print the value for display, if successful
      prettyEval = builtins.tryEval (lib.generators.toPretty { }
        (lib.generators.withRecursion { depthLimit = 10; throwOnDepthLimit = false; } def.value));
      # Split it into its lines
      lines = filter (v: !isList v) (builtins.split "\n" prettyEval.value);
      # Only display the first 5 lines, and indent them for better visibility
      value = concatStringsSep "\n    " (take 5 lines ++ optional (length lines > 5) "...");
      result =
        if !prettyEval.success then ""
        else if length lines > 1 then ":\n    " + value
        else ": " + value;
    in
    "\n- In `${def.file}'${result}"
  ) defs;

  showOptionWithDefLocs = opt: ''
    ${showOption opt.loc}, with values defined in:
    ${lib.strings.concatMapStringsSep "\n" (defFile: "  - ${defFile}") opt.files}
  '';

  unknownModule = "<unknown-file>";
}
