{ }:
let
  # Like nixpkgs' stdenv.mkDerivation: phases reported to Nix through $NIX_LOG_FD, and meta.position pointing at
  # meta.description, else version, else name (pkgs/stdenv/generic/make-derivation.nix).
  mkDerivation = attrs:
    let
      name = attrs.name or "${attrs.pname}-${attrs.version}";
      meta = attrs.meta or { };
      pos =
        if meta.description or null != null then builtins.unsafeGetAttrPos "description" meta
        else if attrs.version or null != null then builtins.unsafeGetAttrPos "version" attrs
        else builtins.unsafeGetAttrPos "name" attrs;
      phase = p: ''echo '@nix {"action":"setPhase","phase":"${p}"}' >&''${NIX_LOG_FD:-2}'';
      script = ''
        ${phase "unpackPhase"}
        ${phase "buildPhase"}
        ${attrs.buildPhase or ""}
        ${phase "installPhase"}
        ${attrs.installPhase or "mkdir -p $out"}
      '';
      drv = builtins.derivation ({
        inherit name;
        system = attrs.system or "x86_64-linux";
        builder = "/bin/sh";
        args = [ "-c" script ];
        PATH = "/usr/bin:/bin";
      } // (builtins.removeAttrs attrs [ "name" "pname" "version" "meta" "system" "buildPhase" "installPhase" "passthru" ]));
    in
    drv // (attrs.passthru or { }) // {
      meta = meta // (if pos == null then { } else { position = pos.file + ":" + toString pos.line; });
    };

  # A NixOS-like system from modules: each module is a path, a set or a function of { config, lib, pkgs }.
  nixosSystem = { modules, system ? "x86_64-linux" }:
    let
      lib = self;
      load = m: if builtins.isPath m || builtins.isString m then import m else m;
      call = m: let f = load m; in if builtins.isFunction f then f { inherit config lib; } else f;
      collect = ms: builtins.concatLists (map (m: let v = call m; in [ v ] ++ collect (v.imports or [ ])) ms);
      all = collect modules;
      config = builtins.foldl' (acc: v: recursiveUpdate acc (builtins.removeAttrs (v.config or v) [ "imports" "options" ])) { } all;
      hostName = config.networking.hostName or "nixos";
      toplevel = mkDerivation {
        name = "nixos-system-${hostName}";
        inherit system;
        buildPhase = "echo building ${hostName}";
        installPhase = "mkdir -p $out; echo ${hostName} > $out/host";
      };
    in
    { config = config // { system = (config.system or { }) // { build = { inherit toplevel; }; }; }; };

  recursiveUpdate = a: b:
    a // builtins.mapAttrs (n: v: if builtins.isAttrs v && builtins.isAttrs (a.${n} or null) && !(v ? type) then recursiveUpdate a.${n} v else v) b;

  self = { inherit mkDerivation nixosSystem recursiveUpdate; };
in
self
