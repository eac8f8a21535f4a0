// Generated Nix sources for the benchmarks: a realistic nixpkgs-style package set, as a plain file or as a flake.
// Real Nix parses both (`nix-instantiate --parse`).

/** One package: a builder call with nested sets, interpolated and indented strings, phases, comments. */
export function packageSource(i: number, indent = '  ', alias = false): string {
  const builder = ['stdenv.mkDerivation', 'buildGoModule', 'python3Packages.buildPythonPackage', 'rustPlatform.buildRustPackage'][i % 4];
  const body = `
# Package number ${i}: mkDerivation in a comment is not a call.
pkg${i} = ${builder} rec {
  pname = "pkg-${i}";
  version = "${i % 10}.${i % 7}.${i % 3}";
  src = fetchFromGitHub {
    owner = "example";
    repo = "pkg-${i}";
    rev = "v\${version}";
    hash = "sha256-${'A'.repeat(43)}=";
  };
  nativeBuildInputs = [ pkg-config makeWrapper ];
  buildInputs = [ openssl zlib ] ++ lib.optionals stdenv.isDarwin [ darwin.apple_sdk.frameworks.Security ];
  env.NIX_CFLAGS_COMPILE = "-O2 -DVERSION=\\"\${version}\\"";
  doc = "stdenv.mkDerivation { name = \\"in a string\\"; }";
  postPatch = ''
    substituteInPlace Makefile --replace "/usr/local" "$out"
    echo ''\${HOME} ''$ '''quoted''' \${lib.getExe bash}
  '';
  installPhase = ''
    runHook preInstall
    mkdir -p $out/bin
    cp pkg-${i} $out/bin/
    wrapProgram $out/bin/pkg-${i} --prefix PATH : \${lib.makeBinPath [ coreutils ]}
    runHook postInstall
  '';
  passthru.tests = { version = testers.testVersion { package = pkg${i}; }; };
  /* Multi-line comment
     with = signs; and { braces */
  meta = with lib; {
    description = "Example package number ${i}";
    homepage = "https://example.org/pkg-${i}";
    license = licenses.mit;
    mainProgram = "pkg-${i}";
  };
};
${alias && i % 5 === 0 ? `pkg${i}-alias = self.packages.x86_64-linux.pkg${i};\n` : ''}`;
  return body
    .split('\n')
    .map((l) => (l ? indent + l : l))
    .join('\n');
}

function fill(head: string, tail: string, lines: number, pkg: (i: number) => string): string {
  const parts = [head];
  let count = head.split('\n').length + tail.split('\n').length - 1;
  for (let i = 0; count < lines; i++) {
    const p = pkg(i);
    parts.push(p);
    count += p.split('\n').length - 1;
  }
  parts.push(tail);
  return parts.join('');
}

/** A package set of about `lines` lines (`{ lib, pkgs, ... }: with pkgs; … rec { pkgN = …; }`). */
export function packageSet(lines: number): string {
  // `with pkgs;` makes every name bound, so real Nix parses the result.
  return fill('{ lib, pkgs, ... }:\n\nwith pkgs;\n\nlet\n  common = { a = 1; };\nin\nrec {', '}\n', lines, (i) => packageSource(i));
}

/**
 * A flake.nix of about `lines` lines whose packages.x86_64-linux holds the packages (and some aliases), with the other
 * outputs a flake usually has: a dev shell, a check that reuses a package, a formatter taken from nixpkgs.
 */
export function packageFlake(lines: number): string {
  const head = [
    '{',
    '  description = "A generated flake with many packages";',
    '  inputs.nixpkgs.url = "github:NixOS/nixpkgs/nixos-unstable";',
    '  outputs = { self, nixpkgs }:',
    '    let',
    '      pkgs = nixpkgs.legacyPackages.x86_64-linux;',
    '      inherit (pkgs) lib stdenv buildGoModule python3Packages rustPlatform fetchFromGitHub;',
    '    in {',
    '      packages.x86_64-linux = with pkgs; {',
  ].join('\n');
  const tail = [
    '      };',
    '      devShells.x86_64-linux.default = pkgs.mkShell { packages = [ pkgs.nil pkgs.nixfmt-rfc-style ]; };',
    '      checks.x86_64-linux.pkg0 = self.packages.x86_64-linux.pkg0;',
    '      formatter.x86_64-linux = pkgs.nixfmt-rfc-style;',
    '    };',
    '}',
    '',
  ].join('\n');
  return fill(head, tail, lines, (i) => packageSource(i, '        ', true));
}
