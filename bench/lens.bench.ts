// Benchmark of the Build CodeLens ranges (`lensRanges`, what `provideCodeLenses` calls) on a generated 20,000-line
// flake.nix, against splitting the text into lines in the same process. Goal: ≤ 20 ms from the text.
//   node scripts/build.mjs --tests --out out-lens --only 'bench/(lens|lib)' && node out-lens/bench/lens.bench.js
import { median, report } from './lib';
import { lensRanges } from '../src/core/lens';
import { findDerivationCalls, scanNix } from '../src/core/source';

const TARGET_LINES = 20_000;
const RUNS = 11;

/** One package of a realistic set: a builder call with nested sets, strings, phases and comments; some aliases. */
function packageSource(i: number): string {
  const builder = ['stdenv.mkDerivation', 'buildGoModule', 'python3Packages.buildPythonPackage', 'rustPlatform.buildRustPackage'][i % 4];
  const alias = i % 5 === 0 ? `        pkg${i}-alias = self.packages.x86_64-linux.pkg${i};\n` : '';
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
${alias}`;
}

function generate(lines: number): string {
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
  const parts = [head];
  let count = head.split('\n').length;
  for (let i = 0; count < lines - 4; i++) {
    const p = packageSource(i);
    parts.push(p);
    count += p.split('\n').length - 1;
  }
  parts.push('      };\n    };\n}\n');
  return parts.join('');
}

const text = generate(TARGET_LINES);
const lineCount = text.split('\n').length;
const plain = lensRanges(text);
const flake = lensRanges(text, { isFlakeNix: true });
console.log(
  `lens bench: ${lineCount} lines, ${text.length} characters, ${plain.length} lenses (${flake.length} as flake.nix, with package bindings)`,
);

// Interleaved rounds, so that load from other processes hits every subject alike; the medians of the rounds.
const src = scanNix(text);
const subjects: Record<string, () => unknown> = {
  baseline: () => text.split('\n'),
  ranges: () => lensRanges(text),
  flake: () => lensRanges(text, { isFlakeNix: true }),
  cached: () => lensRanges(src),
  scan: () => scanNix(text),
  calls: () => findDerivationCalls(text),
};
const rounds: Record<string, number[]> = {};
for (let round = 0; round < 5; round++) {
  for (const [name, fn] of Object.entries(subjects)) (rounds[name] ??= []).push(median(fn, RUNS, 3));
}
const mid = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const [baseline, ranges, flake2, cached, scan, calls] = ['baseline', 'ranges', 'flake', 'cached', 'scan', 'calls'].map((n) => mid(rounds[n]));
report('lens lensRanges (from the text)', ranges, baseline, `(goal ≤ 20 ms: ${ranges <= 20 ? 'met' : 'MISSED'})`);
// What the scanner costs by itself, for reference: most of the above is the scan and its garbage.
report('lens   of which scanNix', scan, baseline);
report('lens   scanner floor: findDerivationCalls (from the text)', calls, baseline);
report('lens lensRanges (from the text, as flake.nix)', flake2, baseline);
report('lens lensRanges (from a cached scan)', cached, baseline);
