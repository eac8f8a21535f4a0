# The module system (nixpkgs lib/modules.nix), following nixpkgs' algorithm closely so that errors have the
# same wording and arise in the same order: modules are collected (imports resolved) before `config` exists,
# definitions are merged per option only when that option's value is used, and definitions without an
# option are reported when the result's `config` is first used.
{ lib }:
let
  inherit (builtins)
    addErrorContext all any attrNames catAttrs concatLists concatMap elem filter foldl' functionArgs
    genericClosure head isAttrs isBool isFunction isList isString length mapAttrs removeAttrs seq tail typeOf
    unsafeGetAttrPos;
  inherit (lib.lists) imap1 init last optional remove reverseList sortOn take;
  inherit (lib.attrsets) attrByPath getAttrFromPath mapAttrsToList mapAttrsRecursiveCond optionalAttrs recursiveUpdate setAttrByPath zipAttrs zipAttrsWith;
  inherit (lib.strings) concatStringsSep isConvertibleWithToString levenshtein levenshteinAtMost optionalString substring;
  inherit (lib.options) isOption mkOption showDefs showFiles showOption unknownModule;
  inherit (lib.trivial) id min pipe warn warnIf;
  types = lib.types;

  showDeclPrefix = loc: decl: prefix:
    " - option(s) with prefix `${showOption (loc ++ [ prefix ])}' in module `${decl._file}'";
  showRawDecls = loc: decls:
    concatStringsSep "\n" (builtins.sort (a: b: a < b) (concatMap (decl: map (showDeclPrefix loc decl) (attrNames decl.options)) decls));
in
rec {
  evalModules =
    evalModulesArgs@{ modules, prefix ? [ ], specialArgs ? { }, class ? null, args ? { }, check ? true }:
    let
      withWarnings = x:
        warnIf (evalModulesArgs ? args) "The args argument to evalModules is deprecated. Please set config._module.args instead."
          warnIf (evalModulesArgs ? check) "The check argument to evalModules is deprecated. Please set config._module.check instead."
          x;

      legacyModules =
        optional (evalModulesArgs ? args) { config = { _module.args = args; }; }
        ++ optional (evalModulesArgs ? check) { config = { _module.check = mkDefault check; }; };
      regularModules = modules ++ legacyModules;

      # Options under `_module', used by the module system itself.
      internalModule = rec {
        _file = "lib/modules.nix";
        key = _file;
        options = {
          _module.args = mkOption {
            type = types.lazyAttrsOf types.raw;
            ${if prefix == [ ] then null else "internal"} = true;
            description = "Additional arguments passed to each module in addition to ones like `lib`, `config`, and `pkgs`, `modulesPath`.";
          };
          _module.check = mkOption {
            type = types.bool;
            internal = true;
            default = true;
            description = "Whether to check whether all option definitions have matching declarations.";
          };
          _module.freeformType = mkOption {
            type = types.nullOr types.optionType;
            internal = true;
            default = null;
            description = "If set, merge all definitions that don't have an associated option together using this type.";
          };
          _module.specialArgs = mkOption {
            readOnly = true;
            internal = true;
            description = "Externally provided module arguments that can't be modified from within a configuration, but can be used in module imports.";
          };
        };
        config = {
          _module.args = {
            inherit extendModules;
            moduleType = type;
          };
          _module.specialArgs = specialArgs;
        };
      };

      doCollect = { }:
        collectModules class (specialArgs.modulesPath or "") (regularModules ++ [ internalModule ]) ({
          inherit lib options specialArgs;
          _class = class;
          _prefix = prefix;
          config = addErrorContext "if you get an infinite recursion here, you probably reference `config` in `imports`. If you are trying to achieve a conditional import behavior dependent on `config`, consider importing unconditionally, and using `mkEnableOption` and `mkIf` to control its effect." config;
        } // specialArgs);

      merged = mergeModules prefix (reverseList (doCollect { }).modules);

      options = merged.matchedOptions;

      config =
        let
          # For definitions that have an associated option
          declaredConfig = mapAttrsRecursiveCond (v: !isOption v) (_: v: v.value) options;

          # If freeformType is set, this is for definitions that don't have an associated option
          freeformConfig =
            let
              defs = map (def: { file = def.file; value = setAttrByPath def.prefix def.value; }) merged.unmatchedDefns;
            in
            if defs == [ ] then { } else declaredConfig._module.freeformType.merge prefix defs;
        in
        if declaredConfig._module.freeformType == null then declaredConfig
        else recursiveUpdate freeformConfig declaredConfig;

      checkUnmatched =
        if config._module.check && config._module.freeformType == null && merged.unmatchedDefns != [ ] then
          let
            firstDef = head merged.unmatchedDefns;
            baseMsg =
              let
                optText = showOption (prefix ++ firstDef.prefix);
                defText =
                  addErrorContext "while evaluating the error message for definitions for `${optText}', which is an option that does not exist"
                    (addErrorContext "while evaluating a definition from `${firstDef.file}'" (showDefs [ firstDef ]));

                # absInvalidOptionParent is absolute; other variables are relative to the submodule prefix
                absInvalidOptionParent = init (prefix ++ firstDef.prefix);
                invalidOptionParent = init firstDef.prefix;
                siblingOptionNames = attrNames (attrByPath invalidOptionParent { } options);
                candidateNames = if invalidOptionParent == [ ] then remove "_module" siblingOptionNames else siblingOptionNames;
                invalidOptionName = last firstDef.prefix;
                # For small option sets, check all; for large sets, only check distance ≤ 2
                suggestions =
                  if length candidateNames < 100 then
                    pipe candidateNames [ (sortOn (levenshtein invalidOptionName)) (take 3) ]
                  else
                    pipe candidateNames [ (filter (levenshteinAtMost 2 invalidOptionName)) (sortOn (levenshtein invalidOptionName)) (take 3) ];
                suggestion =
                  if suggestions == [ ] then ""
                  else if length suggestions == 1 then "\n\nDid you mean `${showOption (absInvalidOptionParent ++ [ (head suggestions) ])}'?"
                  else "\n\nDid you mean ${
                    concatStringsSep ", " (map (s: "`${showOption (absInvalidOptionParent ++ [ s ])}'") (init suggestions))
                  } or `${showOption (absInvalidOptionParent ++ [ (last suggestions) ])}'?";
              in
              "The option `${optText}' does not exist. Definition values:${defText}${suggestion}";
          in
          if attrNames options == [ "_module" ] then
            let optionName = showOption prefix; in
            if optionName == "" then
              throw ''
                ${baseMsg}

                It seems as if you're trying to declare an option by placing it into `config' rather than `options'!
              ''
            else
              throw ''
                ${baseMsg}

                However there are no options defined in `${showOption prefix}'. Are you sure you've
                declared your options properly? This can happen if you e.g. declared your options in `types.submodule'
                under `config' rather than `options'.
              ''
          else throw baseMsg
        else null;

      checked = seq checkUnmatched;

      extendModules = extendArgs@{ modules ? [ ], specialArgs ? { }, prefix ? [ ] }:
        evalModules (evalModulesArgs // {
          modules = regularModules ++ modules;
          specialArgs = evalModulesArgs.specialArgs or { } // specialArgs;
          prefix = extendArgs.prefix or evalModulesArgs.prefix or [ ];
        });

      type = types.submoduleWith { inherit modules specialArgs class; };

      result = withWarnings {
        _type = "configuration";
        options = checked options;
        config = checked (removeAttrs config [ "_module" ]);
        _module = checked (config._module);
        inherit extendModules type class;
      };
    in
    result;

  # Collects all modules recursively through `imports`, filtering out those in `disabledModules`.
  collectModules = class:
    let
      # Like unifyModuleSyntax, but also imports paths and calls functions if necessary
      loadModule = args: fallbackFile: fallbackKey: m:
        if isFunction m then
          unifyModuleSyntax fallbackFile fallbackKey (applyModuleArgs fallbackKey m args)
        else if isAttrs m then
          if m._type or "module" == "module" then unifyModuleSyntax fallbackFile fallbackKey m
          else if m._type == "if" || m._type == "override" then loadModule args fallbackFile fallbackKey { config = m; }
          else throw "Could not load a value as a module, because it is of type ${lib.strings.escapeNixString m._type}${
            optionalString (fallbackFile != unknownModule) ", in file ${toString fallbackFile}"}."
        else if isList m then
          let defs = [ { file = fallbackFile; value = m; } ]; in
          throw "Module imports can't be nested lists. Perhaps you meant to remove one level of lists? Definitions: ${showDefs defs}"
        else
          unifyModuleSyntax (toString m) (toString m) (applyModuleArgsIfFunction (toString m) (import m) args);

      checkModule =
        if class != null then
          m:
          if m._class == null || m._class == class then m
          else throw ''
            The module `${m._file or m.key}` (class: ${lib.strings.escapeNixString m._class}) cannot be imported into a module evaluation that expects class ${lib.strings.escapeNixString class}.

            Help:
            - Ensure that you are importing the correct module.
            - Verify that the module's `_class`, ${lib.strings.escapeNixString m._class} matches the expected `class` ${lib.strings.escapeNixString class}.
            - If you are using a custom class, make sure it is correctly defined and used consistently across your modules.
          ''
        else m: m;

      isDisabled = modulesPath: disabledList:
        let
          moduleKey = file: m:
            if isString m then
              if substring 0 1 m == "/" then m else toString modulesPath + "/" + m
            else if isConvertibleWithToString m then
              if m ? key && m.key != toString m then
                throw "Module `${file}` contains a disabledModules item that is an attribute set that can be converted to a string (${toString m}) but also has a `.key` attribute (${m.key}) with a different value. This makes it ambiguous which module should be disabled."
              else toString m
            else if m ? key then m.key
            else if isAttrs m then
              throw "Module `${file}` contains a disabledModules item that is an attribute set, presumably a module, that does not have a `key` attribute. This means that the module system doesn't have any means to identify the module that should be disabled. Make sure that you've put the correct value in disabledModules: a string path relative to modulesPath, a path value, or an attribute set with a `key` attribute."
            else
              throw "Each disabledModules item must be a path, string, or a attribute set with a key attribute, or a value supported by toString. However, one of the disabledModules items in `${toString file}` is none of that, but is of type ${typeOf m}.";
          disabledKeys = concatMap ({ file, disabled }: map (moduleKey file) disabled) disabledList;
        in
        structuredModule: elem structuredModule.key disabledKeys;

      collectStructuredModules =
        let
          collectResults = modules: {
            disabled = concatLists (catAttrs "disabled" modules);
            inherit modules;
          };
        in
        parentFile: parentKey: initialModules: args:
        collectResults (imap1 (n: x:
          let
            module = checkModule (loadModule args parentFile "${parentKey}:anon-${toString n}" x);
            collectedImports = collectStructuredModules module._file module.key module.imports args;
          in
          {
            key = module.key;
            module = module;
            modules = collectedImports.modules;
            disabled =
              (if module.disabledModules != [ ] then [ { file = module._file; disabled = module.disabledModules; } ] else [ ])
              ++ collectedImports.disabled;
          }
        ) initialModules);

      filterModules = modulesPath: { disabled, modules }:
        let
          keyFilter = filter (attrs: !isDisabled modulesPath disabled attrs);
        in
        catAttrs "module" (genericClosure {
          startSet = keyFilter modules;
          operator = attrs: keyFilter attrs.modules;
        });
    in
    modulesPath: initialModules: args: {
      modules = filterModules modulesPath (collectStructuredModules unknownModule "" initialModules args);
    };

  # Wrap a module with a default location for reporting errors.
  setDefaultModuleLocation = file: m: {
    _file = file;
    imports = [ m ];
  };

  # Massage a module into canonical form: a set of `options', `config' and `imports'.
  unifyModuleSyntax = file: key: m:
    let
      addMeta = config: if m ? meta then mkMerge [ config { meta = m.meta; } ] else config;
      addFreeformType = config: if m ? freeformType then mkMerge [ config { _module.freeformType = m.freeformType; } ] else config;
    in
    if m ? config || m ? options then
      let
        badAttrs = removeAttrs m [ "_class" "_file" "key" "disabledModules" "imports" "options" "config" "meta" "freeformType" ];
      in
      if badAttrs != { } then
        throw "Module `${key}' has an unsupported attribute `${head (attrNames badAttrs)}'. This is caused by introducing a top-level `config' or `options' attribute. Add configuration attributes immediately on the top level instead, or move all of them (namely: ${toString (attrNames badAttrs)}) into the explicit `config' attribute."
      else {
        _file = toString m._file or file;
        _class = m._class or null;
        key = toString m.key or key;
        disabledModules = m.disabledModules or [ ];
        imports = m.imports or [ ];
        options = m.options or { };
        config = addFreeformType (addMeta (m.config or { }));
      }
    # shorthand syntax
    else if !isAttrs m then
      throw "module ${file} (${key}) does not look like a module."
    else {
      _file = toString m._file or file;
      _class = m._class or null;
      key = toString m.key or key;
      disabledModules = m.disabledModules or [ ];
      imports = m.require or [ ] ++ m.imports or [ ];
      options = { };
      config = addFreeformType (removeAttrs m [ "_class" "_file" "key" "disabledModules" "require" "imports" "freeformType" ]);
    };

  applyModuleArgsIfFunction = key: f: args@{ config, ... }:
    if isFunction f then applyModuleArgs key f args else f;

  applyModuleArgs = key: f: args@{ config, ... }:
    let
      # Pass each argument the module asks for lazily: from `args` when given (lib, config, options,
      # specialArgs), else from `config._module.args` (pkgs, name, ...).
      extraArgs = mapAttrs (name: _:
        addErrorContext ''while evaluating the module argument `${name}' in "${key}":'' (
          args.${name} or (addErrorContext "noting that argument `${name}` is not externally provided, so querying `_module.args` instead, requiring `config`"
            config._module.args.${name})
        )
      ) (functionArgs f);
    in
    f (args // extraArgs);

  # Merge a list of modules: option declarations with the definitions that match them.
  mergeModules = prefix: modules:
    mergeModules' prefix modules
      (concatMap (m: map (config: { file = m._file; inherit config; }) (pushDownProperties m.config)) modules);

  mergeModules' = prefix: modules: configs:
    let
      # an attrset 'name' => list of submodules that declare ‘name’.
      declsByName = zipAttrs (map (module:
        let subtree = module.options; in
        if !(isAttrs subtree) then
          throw ''
            An option declaration for `${concatStringsSep "." prefix}' has type
            `${typeOf subtree}' rather than an attribute set.
            Did you mean to define this outside of `options'?
          ''
        else
          mapAttrs (n: option: {
            inherit (module) _file;
            pos = unsafeGetAttrPos n subtree;
            options = option;
          }) subtree
      ) modules);

      # The root of any module definition must be an attrset.
      checkedConfigs =
        assert all (c:
          isAttrs c.config || throw ''
            In module `${c.file}', you're trying to define a value of type `${typeOf c.config}'
            rather than an attribute set for the option
            `${concatStringsSep "." prefix}'!

            This usually happens if `${concatStringsSep "." prefix}' has option
            definitions inside that are not matched. Please check how to properly define
            this option by e.g. referring to `man 5 configuration.nix'!
          ''
        ) configs;
        configs;

      # an attrset 'name' => list of submodules that define ‘name’.
      pushedDownDefinitionsByName = zipAttrsWith (n: concatLists) (map (module:
        mapAttrs (n: value: map (config: { inherit (module) file; inherit config; }) (pushDownProperties value)) module.config
      ) checkedConfigs);
      # extract the definitions for each loc
      rawDefinitionsByName = zipAttrs (map (module:
        mapAttrs (n: value: { inherit (module) file; inherit value; }) module.config
      ) checkedConfigs);

      # Convert an option tree decl to a submodule option decl
      optionTreeToOption = decl:
        if isOption decl.options then decl
        else decl // {
          options = mkOption {
            type = types.submoduleWith {
              modules = [ { options = decl.options; } ];
              shorthandOnlyDefinesConfig = null;
            };
          };
        };

      resultsByName = mapAttrs (name: decls:
        # We're descending into attribute ‘name’.
        let
          loc = prefix ++ [ name ];
          defns = pushedDownDefinitionsByName.${name} or [ ];
          defns' = rawDefinitionsByName.${name} or [ ];
          optionDecls = filter (m:
            m.options ? _type && (m.options._type == "option" || throwDeclarationTypeError loc m.options._type m._file)
          ) decls;
        in
        if length optionDecls == length decls then
          let opt = fixupOptionType loc (mergeOptionDecls loc decls); in
          {
            matchedOptions = evalOptionValue loc opt defns';
            unmatchedDefns = [ ];
          }
        else if optionDecls != [ ] then
          if all (x: x.options.type.name or null == "submodule") optionDecls then
            let opt = fixupOptionType loc (mergeOptionDecls loc (map optionTreeToOption decls)); in
            {
              matchedOptions = evalOptionValue loc opt defns';
              unmatchedDefns = [ ];
            }
          else
            let nonOptions = filter (m: !isOption m.options) decls; in
            throw "The option `${showOption loc}' in module `${(head optionDecls)._file}' would be a parent of the following options, but its type `${
              (head optionDecls).options.type.description or "<no description>"}' does not support nested options.\n${showRawDecls loc nonOptions}"
        else
          mergeModules' loc decls defns
      ) declsByName;

      matchedOptions = mapAttrs (n: v: v.matchedOptions) resultsByName;

      # an attrset 'name' => list of unmatched definitions for 'name'
      unmatchedDefnsByName =
        # Propagate all unmatched definitions from nested option sets
        mapAttrs (n: v: v.unmatchedDefns) resultsByName
        # Plus the definitions for the current prefix that don't have a matching option
        // removeAttrs rawDefinitionsByName (attrNames matchedOptions);
    in
    {
      inherit matchedOptions;

      # Transforms unmatchedDefnsByName into a list of definitions
      unmatchedDefns =
        if configs == [ ] then [ ]
        else concatLists (mapAttrsToList (name: defs:
          map (def: def // {
            # Set this so we know when the definition first left unmatched territory
            prefix = [ name ] ++ (def.prefix or [ ]);
          }) defs
        ) unmatchedDefnsByName);
    };

  throwDeclarationTypeError = loc: actualTag: file:
    let
      name = lib.strings.escapeNixIdentifier (last loc);
      path = showOption loc;
      depth = length loc;
      paragraphs = [
        "In module ${file}: expected an option declaration at option path `${path}` but got an attribute set with type ${actualTag}"
      ] ++ optional (actualTag == "option-type") ''
        When declaring an option, you must wrap the type in a `mkOption` call. It should look somewhat like:
            ${comment}
            ${name} = lib.mkOption {
              description = ...;
              type = <the type you wrote for ${name}>;
              ...
            };
      '';
      comment = optionalString (depth > 1) "\n    # ${showOption loc}";
    in
    throw (concatStringsSep "\n\n" paragraphs);

  # Merge multiple option declarations into a single declaration.
  mergeOptionDecls = loc: opts:
    foldl' (res: opt:
      let
        t = res.type;
        t' = opt.options.type;
        mergedType = t.typeMerge t'.functor;
        typesMergeable = mergedType != null;
        typeSet =
          if opt.options ? type && res ? type then
            if typesMergeable then { type = mergedType; }
            else throw "The option `${showOption loc}' in `${opt._file}' is already declared in ${showFiles res.declarations}."
          else { };
        bothHave = k: opt.options ? ${k} && res ? ${k};
      in
      if bothHave "default" || bothHave "example" || bothHave "description" || bothHave "apply" then
        throw "The option `${showOption loc}' in `${opt._file}' is already declared in ${showFiles res.declarations}."
      else
        let
          getSubModules = opt.options.type.getSubModules or null;
          submodules =
            if getSubModules != null then map (setDefaultModuleLocation opt._file) getSubModules ++ res.options
            else res.options;
        in
        opt.options // res // {
          declarations = res.declarations ++ [ opt._file ];
          declarationPositions = res.declarationPositions
            ++ (if opt.pos != null then [ opt.pos ] else [ { file = opt._file; line = null; column = null; } ]);
          options = submodules;
        } // typeSet
    ) { inherit loc; declarations = [ ]; declarationPositions = [ ]; options = [ ]; } opts;

  # Merge all the definitions of an option to produce the final config value.
  evalOptionValue = loc: opt: defs:
    let
      # Add in the default value for this option, if any.
      defs' =
        if opt ? default then [ { file = head opt.declarations; value = mkOptionDefault opt.default; } ] ++ defs
        else defs;

      # Handle properties, check types, and merge everything together.
      res =
        if opt.readOnly or false && length defs' > 1 then
          let
            separateDefs = map (def: def // { value = (mergeDefinitions loc opt.type [ def ]).mergedValue; }) defs';
          in
          throw "The option `${showOption loc}' is read-only, but it's set multiple times. Definition values:${showDefs separateDefs}"
        else
          mergeDefinitions loc opt.type defs';

      # Apply the 'apply' function to the merged value.
      value = if opt ? apply then opt.apply res.mergedValue else res.mergedValue;

      warnDeprecation =
        if opt.type.deprecationMessage != null then
          warn "The type `types.${opt.type.name}' of option `${showOption loc}' defined in ${showFiles opt.declarations} is deprecated. ${opt.type.deprecationMessage}"
        else x: x;
    in
    warnDeprecation opt // {
      value = addErrorContext "while evaluating the option `${showOption loc}':" value;
      inherit (res.defsFinal') highestPrio;
      definitions = catAttrs "value" res.defsFinal;
      files = catAttrs "file" res.defsFinal;
      definitionsWithLocations = res.defsFinal;
      inherit (res) isDefined;
      inherit (res.checkedAndMerged) valueMeta;
      # This allows options to be correctly displayed using `${options.path.to.it}`
      __toString = _: showOption loc;
    };

  # Merge definitions of a value of a given type.
  mergeDefinitions = loc: type: defs: rec {
    defsFinal' =
      let
        # Process mkMerge and mkIf properties.
        defsNormalized = concatMap (m:
          map (value: if value._type or null == "definition" then value else { inherit (m) file; inherit value; })
            (addErrorContext "while evaluating definitions from `${m.file}':" (dischargeProperties m.value))
        ) defs;

        # Process mkOverride properties.
        defsFiltered = filterOverrides' defsNormalized;

        # Sort mkOrder properties.
        defsSorted =
          if any (def: def.value._type or "" == "order") defsFiltered.values then sortProperties defsFiltered.values
          else defsFiltered.values;
      in
      # Fast path: a single definition without any property.
      if length defs == 1 && (
        let d = head defs; in
        addErrorContext "while evaluating definitions from `${d.file}':" (!(isAttrs d.value && d.value ? _type))
      ) then { values = defs; highestPrio = defaultOverridePriority; }
      else { values = defsSorted; inherit (defsFiltered) highestPrio; };
    defsFinal = defsFinal'.values;

    # Type-check the remaining definitions, and merge them. Or throw if no definitions.
    mergedValue =
      if isDefined then
        if type.merge ? v2 then
          if checkedAndMerged.headError or null != null then
            throw "A definition for option `${showOption loc}' is not of type `${type.description}'. TypeError: ${checkedAndMerged.headError.message}"
          else checkedAndMerged.value
        else if all (def: type.check def.value) defsFinal then type.merge loc defsFinal
        else
          let allInvalid = filter (def: !type.check def.value) defsFinal; in
          throw "A definition for option `${showOption loc}' is not of type `${type.description}'. Definition values:${showDefs allInvalid}"
      else if type.emptyValue ? value then type.emptyValue.value
      else
        # (nixos-option detects this specific error message and gives it special handling.)
        throw "The option `${showOption loc}' was accessed but has no value defined. Try setting the option.";

    checkedAndMerged =
      ({ headError, value, valueMeta }@args: args) (
        if type.merge ? v2 then
          let r = type.merge.v2 { inherit loc; defs = defsFinal; }; in
          r // { valueMeta = r.valueMeta // { _internal = { inherit type; }; }; }
        else { headError = null; value = mergedValue; valueMeta = { }; }
      );

    isDefined = defsFinal != [ ];

    optionalValue = if isDefined then { value = mergedValue; } else { };
  };

  # Expand mkMerge, and push mkIf and mkOverride down into the attributes of a config set.
  pushDownProperties =
    let
      mapAttrsIfAttrs = f: val: if isAttrs val then mapAttrs f val else val;
    in
    cfg:
    if cfg._type or "" == "merge" then concatMap pushDownProperties cfg.contents
    else if cfg._type or "" == "if" then map (mapAttrsIfAttrs (n: v: mkIf cfg.condition v)) (pushDownProperties cfg.content)
    else if cfg._type or "" == "override" then map (mapAttrsIfAttrs (n: v: mkOverride cfg.priority v)) (pushDownProperties cfg.content)
    else [ cfg ];

  # Expand mkMerge and discharge mkIf: this is where mkIf conditions are evaluated.
  dischargeProperties = def:
    if def._type or "" == "merge" then concatMap dischargeProperties def.contents
    else if def._type or "" == "if" then
      if isBool def.condition then
        if def.condition then dischargeProperties def.content else [ ]
      else throw "‘mkIf’ called with a non-Boolean condition"
    else [ def ];

  # Keep the definitions with the highest priority (lowest number), stripped of mkOverride.
  filterOverrides = defs: (filterOverrides' defs).values;
  filterOverrides' =
    let
      getPrio = def: if def.value._type or "" == "override" then def.value.priority else defaultOverridePriority;
      strip = def: if def.value._type or "" == "override" then def // { value = def.value.content; } else def;
    in
    defs:
    if length defs == 1 then { values = map strip defs; highestPrio = getPrio (head defs); }
    else
      let highestPrio = foldl' (prio: def: min (getPrio def) prio) 9999 defs; in
      {
        values = concatMap (def: if getPrio def == highestPrio then [ (strip def) ] else [ ]) defs;
        inherit highestPrio;
      };

  sortProperties = defs:
    let
      strip = def:
        if def.value._type or "" == "order" then def // { value = def.value.content; inherit (def.value) priority; } else def;
      defs' = map strip defs;
      compare = a: b: (a.priority or defaultOrderPriority) < (b.priority or defaultOrderPriority);
    in
    builtins.sort compare defs';

  fixupOptionType = loc: opt:
    if opt.type.getSubModules or null == null then opt // { type = opt.type or types.unspecified; }
    else opt // { type = opt.type.substSubModules opt.options; options = [ ]; };

  # Properties.
  mkIf = condition: content: { _type = "if"; inherit condition content; };
  mkAssert = assertion: message: content:
    mkIf (if assertion then true else throw "\nFailed assertion: ${message}") content;
  mkMerge = contents: { _type = "merge"; inherit contents; };
  mkDefinition = args@{ file, value, ... }: args // { _type = "definition"; };
  mkOverride = priority: content: { _type = "override"; inherit priority content; };

  mkOptionDefault = mkOverride 1500; # priority of option defaults
  mkDefault = mkOverride 1000; # used in config sections of non-user modules to set a default
  defaultOverridePriority = 100;
  mkImageMediaOverride = mkOverride 60;
  mkForce = mkOverride 50;
  mkVMOverride = mkOverride 10;

  mkOrder = priority: content: { _type = "order"; inherit priority content; };
  mkBefore = mkOrder 500;
  defaultOrderPriority = 1000;
  mkAfter = mkOrder 1500;

  mkAliasDefinitions = mkAliasAndWrapDefinitions id;
  mkAliasAndWrapDefinitions = wrap: option: mkIf option.isDefined (wrap (mkMerge option.definitions));
}
