{ lib }:
{
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
        # bash, as stdenv's builder is: `nix develop` works only on derivations built by bash.
        builder = "/bin/bash";
        args = [ "-c" script ];
        outputs = attrs.outputs or [ "out" ];
        PATH = "/usr/bin:/bin";
      } // (builtins.removeAttrs attrs [ "name" "pname" "version" "meta" "system" "buildPhase" "installPhase" "passthru" "outputs" ]));
    in
    drv // (attrs.passthru or { }) // {
      meta = meta // (if pos == null then { } else { position = pos.file + ":" + toString pos.line; });
    };
}
