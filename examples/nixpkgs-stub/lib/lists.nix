# List functions (nixpkgs lib/lists.nix), the ones this stand-in needs.
{ lib }:
rec {
  inherit (builtins) head tail length elem elemAt filter concatLists concatMap genList map all any sort foldl' isList;

  foldr = op: nul: list:
    let
      len = length list;
      fold' = n: if n == len then nul else op (elemAt list n) (fold' (n + 1));
    in
    fold' 0;

  optional = cond: elem: if cond then [ elem ] else [ ];
  optionals = cond: elems: if cond then elems else [ ];
  toList = x: if isList x then x else [ x ];
  singleton = x: [ x ];

  imap0 = f: list: genList (n: f n (elemAt list n)) (length list);
  imap1 = f: list: genList (n: f (n + 1) (elemAt list n)) (length list);

  flatten = x: if isList x then concatMap (y: flatten y) x else [ x ];
  remove = e: filter (x: x != e);
  reverseList = xs: let l = length xs; in genList (n: elemAt xs (l - n - 1)) l;
  last = list: assert lib.assertMsg (list != [ ]) "lists.last: list must not be empty!"; elemAt list (length list - 1);
  init = list: assert lib.assertMsg (list != [ ]) "lists.init: list must not be empty!"; take (length list - 1) list;
  take = count: sublist 0 count;
  drop = count: list: sublist count (length list) list;
  sublist = start: count: list:
    let len = length list; in
    genList (n: elemAt list (n + start)) (
      if start >= len then 0
      else if start + count > len then len - start
      else count
    );
  range = first: last: if first > last then [ ] else genList (n: first + n) (last - first + 1);
  unique = foldl' (acc: e: if elem e acc then acc else acc ++ [ e ]) [ ];
  count = pred: foldl' (c: x: if pred x then c + 1 else c) 0;
  findFirst = pred: default: list:
    let found = filter pred list; in if found == [ ] then default else head found;
  subtractLists = e: filter (x: !(elem x e));
  partition = builtins.partition;
  sortOn = f: list:
    map (p: p.v) (sort (a: b: a.k < b.k) (map (v: { inherit v; k = f v; }) list));
  zipListsWith = f: fst: snd: genList (n: f (elemAt fst n) (elemAt snd n)) (lib.trivial.min (length fst) (length snd));
}
