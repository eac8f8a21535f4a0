{ lib }:
lib.mkDerivation {
  name = "greeting";
  version = "1.0";
  buildPhase = ''
    echo "writing a greeting"
  '';
  installPhase = "mkdir -p $out; echo 'Good morning' > $out/greeting";
}
