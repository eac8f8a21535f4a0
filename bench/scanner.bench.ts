// Benchmark of the Nix source scanner on a generated 20,000-line package set, against splitting the text into
// lines in the same process. Goal: `findDerivationCalls` (what the Build CodeLens needs) within 20 ms.
//   node scripts/build.mjs --tests --out out-source --only 'bench/(scanner|lib)' && node out-source/bench/scanner.bench.js
import { median, report } from './lib';
import { findDerivationCalls, scanNix } from '../src/core/source';

const TARGET_LINES = 20_000;

/** One package of a realistic nixpkgs-style set: a builder call, nested sets, strings, phases, comments. */
function packageSource(i: number): string {
  const builder = ['stdenv.mkDerivation', 'buildGoModule', 'python3Packages.buildPythonPackage', 'rustPlatform.buildRustPackage'][i % 4];
  return `
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
      maintainers = [ maintainers.example ];
      platforms = platforms.unix;
    };
  };
`;
}

function generate(lines: number): string {
  // `with pkgs;` makes every name bound, so real Nix parses the result (`nix-instantiate --parse`).
  const parts = ['{ lib, pkgs, ... }:\n\nwith pkgs;\n\nlet\n  common = { a = 1; };\nin\nrec {'];
  let count = 8;
  for (let i = 0; count < lines - 1; i++) {
    const p = packageSource(i);
    parts.push(p);
    count += p.split('\n').length - 1;
  }
  parts.push('}\n');
  return parts.join('');
}

const text = generate(TARGET_LINES);
const lineCount = text.split('\n').length;
const calls = findDerivationCalls(text).length;
console.log(`scanner bench: ${lineCount} lines, ${text.length} characters, ${calls} derivation calls`);

const baseline = median(() => text.split('\n'), 15, 3);
const scan = median(() => scanNix(text), 15, 3);
const lens = median(() => findDerivationCalls(text), 15, 3);
report('scanner full scan (tokens + structure)', scan, baseline);
report('scanner findDerivationCalls (CodeLens ranges)', lens, baseline, `(goal ≤ 20 ms: ${lens <= 20 ? 'met' : 'MISSED'})`);
