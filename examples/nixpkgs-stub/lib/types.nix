# Option types (nixpkgs lib/types.nix): the common ones, with nixpkgs' names, descriptions, checks and merges.
{ lib }:
let
  inherit (builtins) isAttrs isBool isFloat isFunction isInt isList isPath isString elem filter all length head tail foldl' concatLists attrNames mapAttrs;
  inherit (lib.lists) imap1 last toList unique;
  inherit (lib.attrsets) filterAttrs zipAttrsWith optionalAttrs isDerivation;
  inherit (lib.options) getFiles getValues mergeDefaultOption mergeEqualOption mergeOneOption mergeUniqueOption showFiles showDefs showOption;
  inherit (lib.strings) concatMapStringsSep concatStringsSep escapeNixString hasInfix isStringLike;
  inherit (lib.trivial) boolToString flip;
  inherit (lib.modules) mergeDefinitions fixupOptionType mergeOptionDecls;

  elemTypeFunctor = name: { elemType, ... }@payload: {
    inherit name payload;
    type = types.${name};
    binOp = a: b:
      let merged = a.elemType.typeMerge b.elemType.functor; in
      if merged == null then null else { elemType = merged; };
  };

  checkDefsForError = check: loc: defs:
    if all (def: check def.value) defs then null
    else
      let invalidDefs = filter (def: !check def.value) defs; in
      { message = "Definition values: ${showDefs invalidDefs}"; };

  isStorePath = x:
    if isStringLike x then
      let str = toString x; in
      builtins.substring 0 1 str == "/"
      && dirOf str == builtins.storeDir
      && builtins.match "[0-9a-z]{32}-.+" (baseNameOf str) != null
    else false;

  types = rec {
    isType = lib.trivial.isType;
    setType = lib.trivial.setType;

    # Default type merging function: takes two type functors and returns the merged type (or null).
    defaultTypeMerge = f: f':
      let
        mergedWrapped = f.wrapped.typeMerge f'.wrapped.functor;
        mergedPayload = f.binOp f.payload f'.payload;
        hasPayload = f.payload != null;
        hasWrapped = f ? wrapped && f.wrapped != null;
      in
      if f.name != f'.name then null
      else if hasPayload then (if mergedPayload == null then null else f.type mergedPayload)
      else if hasWrapped then (if mergedWrapped == null then null else f.type mergedWrapped)
      else f.type;

    defaultFunctor = name: {
      inherit name;
      type = types.${name} or null;
      wrapped = null;
      payload = null;
      binOp = a: b: null;
    };

    isOptionType = isType "option-type";
    mkOptionType =
      { name
      , description ? null
      , descriptionClass ? null
      , check ? (x: true)
      , merge ? mergeDefaultOption
      , emptyValue ? { }
      , getSubOptions ? prefix: { }
      , getSubModules ? null
      , substSubModules ? m: null
      , typeMerge ? defaultTypeMerge functor
      , functor ? defaultFunctor name
      , deprecationMessage ? null
      , nestedTypes ? { }
      }:
      {
        _type = "option-type";
        inherit name check merge emptyValue getSubOptions getSubModules substSubModules typeMerge functor
          deprecationMessage nestedTypes descriptionClass;
        description = if description == null then name else description;
      };

    optionDescriptionPhrase = unparenthesize: t:
      if unparenthesize (t.descriptionClass or null) then t.description else "(${t.description})";

    noCheckForDocsModule = {
      config._module.check = lib.modules.mkForce false;
      _file = "<built-in module that disables checks for the purpose of documentation generation>";
    };

    raw = mkOptionType {
      name = "raw";
      description = "raw value";
      descriptionClass = "noun";
      check = value: true;
      merge = mergeOneOption;
    };

    anything = mkOptionType {
      name = "anything";
      description = "anything";
      descriptionClass = "noun";
      check = value: true;
      merge = loc: defs:
        let
          getType = value: if isAttrs value && isStringLike value then "stringCoercibleSet" else builtins.typeOf value;
          commonType = foldl' (type: def:
            if getType def.value == type then type
            else throw "The option `${showOption loc}' has conflicting option types in ${showFiles (getFiles defs)}"
          ) (getType (head defs).value) defs;
          mergeFunction = {
            set = (attrsOf anything).merge;
            stringCoercibleSet = mergeOneOption;
            lambda = loc: defs: arg:
              anything.merge (loc ++ [ "<function body>" ]) (map (def: { file = def.file; value = def.value arg; }) defs);
          }.${commonType} or mergeEqualOption;
        in
        mergeFunction loc defs;
    };

    unspecified = mkOptionType {
      name = "unspecified";
      description = "unspecified value";
      descriptionClass = "noun";
    };

    bool = mkOptionType {
      name = "bool";
      description = "boolean";
      descriptionClass = "noun";
      check = isBool;
      merge = mergeEqualOption;
    };

    int = mkOptionType {
      name = "int";
      description = "signed integer";
      descriptionClass = "noun";
      check = isInt;
      merge = mergeEqualOption;
    };

    ints =
      let
        betweenDesc = lowest: highest: "${toString lowest} and ${toString highest} (both inclusive)";
        between = lowest: highest:
          assert lib.trivial.assertMsg (lowest <= highest) "ints.between: lowest must be smaller than highest";
          addCheck int (x: x >= lowest && x <= highest) // {
            name = "intBetween";
            description = "integer between ${betweenDesc lowest highest}";
          };
        ign = lowest: highest: name: docStart:
          between lowest highest // {
            inherit name;
            description = docStart + "; between ${betweenDesc lowest highest}";
          };
        unsign = bit: range: ign 0 (range - 1) "unsignedInt${toString bit}" "${toString bit} bit unsigned integer";
        sign = bit: range: ign (0 - (range / 2)) (range / 2 - 1) "signedInt${toString bit}" "${toString bit} bit signed integer";
      in
      {
        inherit between;
        unsigned = addCheck int (x: x >= 0) // {
          name = "unsignedInt";
          description = "unsigned integer, meaning >=0";
          descriptionClass = "nonRestrictiveClause";
        };
        positive = addCheck int (x: x > 0) // {
          name = "positiveInt";
          description = "positive integer, meaning >0";
          descriptionClass = "nonRestrictiveClause";
        };
        u8 = unsign 8 256;
        u16 = unsign 16 65536;
        u32 = unsign 32 4294967296;
        s8 = sign 8 256;
        s16 = sign 16 65536;
        s32 = sign 32 4294967296;
      };

    port = ints.u16;

    float = mkOptionType {
      name = "float";
      description = "floating point number";
      descriptionClass = "noun";
      check = isFloat;
      merge = mergeEqualOption;
    };

    str = mkOptionType {
      name = "str";
      description = "string";
      descriptionClass = "noun";
      check = isString;
      merge = mergeEqualOption;
    };

    nonEmptyStr = mkOptionType {
      name = "nonEmptyStr";
      description = "non-empty string";
      descriptionClass = "noun";
      check = x: str.check x && builtins.match "[ \t\n]*" x == null;
      inherit (str) merge;
    };

    strMatching = pattern: mkOptionType {
      name = "strMatching ${escapeNixString pattern}";
      description = "string matching the pattern ${pattern}";
      descriptionClass = "noun";
      check = x: str.check x && builtins.match pattern x != null;
      inherit (str) merge;
      functor = defaultFunctor "strMatching" // {
        type = payload: strMatching payload.pattern;
        payload = { inherit pattern; };
        binOp = lhs: rhs: if lhs == rhs then lhs else null;
      };
    };

    separatedString = sep: mkOptionType rec {
      name = "separatedString";
      description = "strings concatenated with ${builtins.toJSON sep}";
      descriptionClass = "noun";
      check = isString;
      merge = loc: defs: concatStringsSep sep (getValues defs);
      functor = (defaultFunctor name) // {
        payload = { inherit sep; };
        type = payload: types.separatedString payload.sep;
        binOp = lhs: rhs: if lhs.sep == rhs.sep then { inherit (lhs) sep; } else null;
      };
    };

    lines = separatedString "\n";
    commas = separatedString ",";
    envVar = separatedString ":";

    attrs = mkOptionType {
      name = "attrs";
      description = "attribute set";
      check = isAttrs;
      merge = loc: foldl' (res: def: res // def.value) { };
      emptyValue = { value = { }; };
    };

    package = mkOptionType {
      name = "package";
      descriptionClass = "noun";
      check = x: isDerivation x || isStorePath x;
      merge = loc: defs:
        let res = mergeOneOption loc defs; in
        if isPath res || (isString res && !builtins.hasContext res)
        then { type = "derivation"; name = baseNameOf (toString res); outPath = builtins.storePath res; }
        else res;
    };

    path = mkOptionType {
      name = "path";
      description = "absolute path";
      descriptionClass = "noun";
      check = x: isStringLike x && builtins.substring 0 1 (toString x) == "/";
      merge = mergeEqualOption;
    };

    listOf = elemType: mkOptionType rec {
      name = "listOf";
      description = "list of ${optionDescriptionPhrase (class: class == "noun" || class == "composite") elemType}";
      descriptionClass = "composite";
      check = { __functor = _self: isList; isV2MergeCoherent = true; };
      merge = {
        __functor = self: loc: defs: (self.v2 { inherit loc defs; }).value;
        v2 = { loc, defs }:
          let
            evals = filter (x: x.optionalValue ? value) (concatLists (imap1 (n: def:
              imap1 (m: def':
                (mergeDefinitions (loc ++ [ "[definition ${toString n}-entry ${toString m}]" ]) elemType [
                  { inherit (def) file; value = def'; }
                ])
              ) def.value
            ) defs));
          in
          {
            headError = checkDefsForError check loc defs;
            value = map (x: x.optionalValue.value or x.mergedValue) evals;
            valueMeta.list = map (v: v.checkedAndMerged.valueMeta) evals;
          };
      };
      emptyValue = { value = [ ]; };
      getSubOptions = prefix: elemType.getSubOptions (prefix ++ [ "*" ]);
      getSubModules = elemType.getSubModules;
      substSubModules = m: listOf (elemType.substSubModules m);
      functor = (elemTypeFunctor name { inherit elemType; }) // {
        type = payload: types.listOf payload.elemType;
      };
      nestedTypes.elemType = elemType;
    };

    nonEmptyListOf = elemType:
      let list = addCheck (types.listOf elemType) (l: l != [ ]); in
      list // {
        description = "non-empty ${optionDescriptionPhrase (class: class == "noun") list}";
        emptyValue = { };
        substSubModules = m: nonEmptyListOf (elemType.substSubModules m);
      };

    attrsOf = elemType: attrsWith { inherit elemType; };
    lazyAttrsOf = elemType: attrsWith { inherit elemType; lazy = true; };

    attrsWith =
      let
        pushPositions = map (def: mapAttrs (n: v: { inherit (def) file; value = v; }) def.value);
        binOp = lhs: rhs:
          let
            elemType = lhs.elemType.typeMerge rhs.elemType.functor;
            lazy = if lhs.lazy == rhs.lazy then lhs.lazy else null;
            placeholder =
              if lhs.placeholder == rhs.placeholder then lhs.placeholder
              else if lhs.placeholder == "name" then rhs.placeholder
              else if rhs.placeholder == "name" then lhs.placeholder
              else null;
          in
          if elemType == null || lazy == null || placeholder == null then null
          else { inherit elemType lazy placeholder; };
      in
      { elemType, lazy ? false, placeholder ? "name" }:
      mkOptionType rec {
        name = if lazy then "lazyAttrsOf" else "attrsOf";
        description = (if lazy then "lazy attribute set" else "attribute set")
          + " of ${optionDescriptionPhrase (class: class == "noun" || class == "composite") elemType}";
        descriptionClass = "composite";
        check = { __functor = _self: isAttrs; isV2MergeCoherent = true; };
        merge = {
          __functor = self: loc: defs: (self.v2 { inherit loc defs; }).value;
          v2 = { loc, defs }:
            let
              evals =
                if lazy then zipAttrsWith (name: defs: mergeDefinitions (loc ++ [ name ]) elemType defs) (pushPositions defs)
                else filterAttrs (n: v: v.optionalValue ? value)
                  (zipAttrsWith (name: defs: mergeDefinitions (loc ++ [ name ]) elemType defs) (pushPositions defs));
            in
            {
              headError = checkDefsForError check loc defs;
              value = mapAttrs (n: v:
                if lazy then v.optionalValue.value or elemType.emptyValue.value or v.mergedValue
                else v.optionalValue.value) evals;
              valueMeta.attrs = mapAttrs (n: v: v.checkedAndMerged.valueMeta) evals;
            };
        };
        emptyValue = { value = { }; };
        getSubOptions = prefix: elemType.getSubOptions (prefix ++ [ "<${placeholder}>" ]);
        getSubModules = elemType.getSubModules;
        substSubModules = m: attrsWith { elemType = elemType.substSubModules m; inherit lazy placeholder; };
        functor = (elemTypeFunctor "attrsWith" { inherit elemType lazy placeholder; }) // { inherit binOp; };
        nestedTypes.elemType = elemType;
      };

    uniq = unique { message = ""; };
    unique = { message }: type: mkOptionType rec {
      name = "unique";
      inherit (type) description descriptionClass check;
      merge = mergeUniqueOption { inherit message; inherit (type) merge; };
      emptyValue = type.emptyValue;
      getSubOptions = type.getSubOptions;
      getSubModules = type.getSubModules;
      substSubModules = m: uniq (type.substSubModules m);
      functor = elemTypeFunctor name { elemType = type; } // {
        type = payload: types.unique { inherit message; } payload.elemType;
      };
      nestedTypes.elemType = type;
    };

    nullOr = elemType: mkOptionType rec {
      name = "nullOr";
      description = "null or ${optionDescriptionPhrase (class: class == "noun" || class == "conjunction") elemType}";
      descriptionClass = "conjunction";
      check = x: x == null || elemType.check x;
      merge = loc: defs:
        let nulls = filter (def: def.value == null) defs; in
        if nulls == [ ] then elemType.merge loc defs
        else if length nulls == length defs then null
        else throw "The option `${showOption loc}` is defined both null and not null, in ${showFiles (getFiles defs)}.";
      emptyValue = { value = null; };
      getSubOptions = elemType.getSubOptions;
      getSubModules = elemType.getSubModules;
      substSubModules = m: nullOr (elemType.substSubModules m);
      functor = (elemTypeFunctor name { inherit elemType; }) // {
        type = payload: types.nullOr payload.elemType;
      };
      nestedTypes.elemType = elemType;
    };

    functionTo = elemType: mkOptionType {
      name = "functionTo";
      description = "function that evaluates to a(n) ${optionDescriptionPhrase (class: class == "noun" || class == "composite") elemType}";
      descriptionClass = "composite";
      check = isFunction;
      merge = loc: defs: callerArgs:
        (mergeDefinitions (loc ++ [ "<function body>" ]) elemType
          (map (fn: { inherit (fn) file; value = fn.value callerArgs; }) defs)).mergedValue;
      getSubOptions = prefix: elemType.getSubOptions (prefix ++ [ "<function body>" ]);
      getSubModules = elemType.getSubModules;
      substSubModules = m: functionTo (elemType.substSubModules m);
      functor = (elemTypeFunctor "functionTo" { inherit elemType; }) // {
        type = payload: types.functionTo payload.elemType;
      };
      nestedTypes.elemType = elemType;
    };

    submodule = modules: submoduleWith {
      shorthandOnlyDefinesConfig = true;
      modules = toList modules;
    };

    deferredModule = deferredModuleWith { };
    deferredModuleWith = attrs@{ staticModules ? [ ] }: mkOptionType {
      name = "deferredModule";
      description = "module";
      descriptionClass = "noun";
      check = x: isAttrs x || isFunction x || path.check x;
      merge = loc: defs: {
        imports = staticModules
          ++ map (def: lib.modules.setDefaultModuleLocation "${def.file}, via option ${showOption loc}" def.value) defs;
      };
      inherit (submoduleWith { modules = staticModules; }) getSubOptions getSubModules;
      substSubModules = m: deferredModuleWith (attrs // { staticModules = m; });
      functor = defaultFunctor "deferredModuleWith" // {
        type = types.deferredModuleWith;
        payload = { inherit staticModules; };
        binOp = lhs: rhs: { staticModules = lhs.staticModules ++ rhs.staticModules; };
      };
    };

    optionType = mkOptionType {
      name = "optionType";
      description = "optionType";
      descriptionClass = "noun";
      check = isType "option-type";
      merge = loc: defs:
        if length defs == 1 then (head defs).value
        else
          let
            optionModules = map ({ value, file }: { _file = file; options = lib.options.mkOption { type = value; }; }) defs;
            mergedOption = fixupOptionType loc (mergeOptionDecls loc optionModules);
          in
          mergedOption.type;
    };

    submoduleWith =
      { modules
      , specialArgs ? { }
      , shorthandOnlyDefinesConfig ? false
      , description ? null
      , class ? null
      }@attrs:
      let
        inherit (lib.modules) evalModules;

        allModules = defs: map ({ value, file }:
          if isAttrs value && shorthandOnlyDefinesConfig
          then { _file = file; config = value; }
          else { _file = file; imports = [ value ]; }
        ) defs;

        base = evalModules {
          inherit class specialArgs;
          modules = [ { _module.args.name = lib.modules.mkOptionDefault "‹name›"; } ] ++ modules;
        };

        freeformType = base._module.freeformType;
        name = "submodule";
        check = { __functor = _self: x: isAttrs x || isFunction x || path.check x; isV2MergeCoherent = true; };
      in
      mkOptionType {
        inherit name;
        description =
          if description != null then description
          else
            let docsEval = base.extendModules { modules = [ noCheckForDocsModule ]; }; in
            if docsEval._module.freeformType ? description
            then "open ${name} of ${optionDescriptionPhrase (class: class == "noun" || class == "composite") docsEval._module.freeformType}"
            else name;
        inherit check;
        merge = {
          __functor = self: loc: defs: (self.v2 { inherit loc defs; }).value;
          v2 = { loc, defs }:
            let
              configuration = base.extendModules {
                modules = [ { _module.args.name = last loc; } ] ++ allModules defs;
                prefix = loc;
              };
            in
            {
              headError = checkDefsForError check loc defs;
              value = configuration.config;
              valueMeta = { inherit configuration; };
            };
        };
        emptyValue = { value = base.config; };
        getSubOptions = prefix:
          let docsEval = base.extendModules { inherit prefix; modules = [ noCheckForDocsModule ]; }; in
          docsEval.options;
        getSubModules = modules;
        substSubModules = m: submoduleWith (attrs // { modules = m; });
        nestedTypes = optionalAttrs (freeformType != null) { inherit freeformType; };
        functor = defaultFunctor name // {
          type = types.submoduleWith;
          payload = { inherit modules class specialArgs shorthandOnlyDefinesConfig description; };
          binOp = lhs: rhs: {
            class =
              if lhs.class or null == null then rhs.class or null
              else if rhs.class or null == null then lhs.class or null
              else if lhs.class or null == rhs.class then lhs.class or null
              else throw "A submoduleWith option is declared multiple times with conflicting class values \"${toString lhs.class}\" and \"${toString rhs.class}\".";
            modules = lhs.modules ++ rhs.modules;
            specialArgs =
              let intersecting = builtins.intersectAttrs lhs.specialArgs rhs.specialArgs; in
              if intersecting == { } then lhs.specialArgs // rhs.specialArgs
              else throw "A submoduleWith option is declared multiple times with the same specialArgs \"${toString (attrNames intersecting)}\"";
            shorthandOnlyDefinesConfig =
              if lhs.shorthandOnlyDefinesConfig == null then rhs.shorthandOnlyDefinesConfig
              else if rhs.shorthandOnlyDefinesConfig == null then lhs.shorthandOnlyDefinesConfig
              else if lhs.shorthandOnlyDefinesConfig == rhs.shorthandOnlyDefinesConfig then lhs.shorthandOnlyDefinesConfig
              else throw "A submoduleWith option is declared multiple times with conflicting shorthandOnlyDefinesConfig values";
            description =
              if lhs.description == null then rhs.description
              else if rhs.description == null then lhs.description
              else if lhs.description == rhs.description then lhs.description
              else throw "A submoduleWith option is declared multiple times with conflicting descriptions";
          };
        };
      };

    enum = values:
      let
        show = v:
          if isString v then ''"${v}"''
          else if isInt v then toString v
          else if isBool v then boolToString v
          else "<${builtins.typeOf v}>";
      in
      mkOptionType rec {
        name = "enum";
        description =
          if values == [ ] then "impossible (empty enum)"
          else if length values == 1 then "value ${show (head values)} (singular enum)"
          else "one of ${concatMapStringsSep ", " show values}";
        descriptionClass = if length values < 2 then "noun" else "conjunction";
        check = flip elem values;
        merge = mergeEqualOption;
        functor = (defaultFunctor name) // {
          payload = { inherit values; };
          type = payload: types.enum payload.values;
          binOp = a: b: { values = unique (a.values ++ b.values); };
        };
      };

    either = t1: t2: mkOptionType rec {
      name = "either";
      description =
        if t1.descriptionClass or null == "nonRestrictiveClause"
        then "${t1.description} or ${optionDescriptionPhrase (class: class == "noun" || class == "conjunction") t2}"
        else "${optionDescriptionPhrase (class: class == "noun" || class == "conjunction") t1} or ${
          optionDescriptionPhrase (class: class == "noun" || class == "conjunction" || class == "composite") t2}";
      descriptionClass = "conjunction";
      check = x: t1.check x || t2.check x;
      merge = loc: defs:
        let defList = map (d: d.value) defs; in
        if all (x: t1.check x) defList then t1.merge loc defs
        else if all (x: t2.check x) defList then t2.merge loc defs
        else mergeOneOption loc defs;
      typeMerge = f':
        let mt1 = t1.typeMerge (elemAt f'.payload.elemType 0).functor; mt2 = t2.typeMerge (elemAt f'.payload.elemType 1).functor; in
        if name == f'.name && mt1 != null && mt2 != null then functor.type mt1 mt2 else null;
      functor = defaultFunctor name // { type = types.either; payload.elemType = [ t1 t2 ]; };
      nestedTypes.left = t1;
      nestedTypes.right = t2;
    };

    oneOf = ts:
      let
        head' = if ts == [ ] then throw "types.oneOf needs to get at least one type in its argument" else head ts;
        tail' = tail ts;
      in
      foldl' either head' tail';

    addCheck = elemType: check:
      if elemType.merge ? v2 then
        elemType // {
          check = { __functor = _self: x: elemType.check x && check x; isV2MergeCoherent = true; };
          merge = {
            __functor = self: loc: defs: (self.v2 { inherit loc defs; }).value;
            v2 = { loc, defs }:
              let orig = elemType.merge.v2 { inherit loc defs; }; in
              orig // {
                headError = if orig.headError or null != null then orig.headError else checkDefsForError check loc defs;
              };
          };
        }
      else elemType // { check = x: elemType.check x && check x; };
  };

  elemAt = builtins.elemAt;
in
types
