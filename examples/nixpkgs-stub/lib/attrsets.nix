# Attribute-set functions (nixpkgs lib/attrsets.nix), the ones this stand-in needs.
{ lib }:
let
  inherit (builtins) head tail length attrNames listToAttrs mapAttrs isAttrs hasAttr getAttr;
in
rec {
  inherit (builtins) attrNames attrValues catAttrs mapAttrs listToAttrs removeAttrs intersectAttrs hasAttr getAttr zipAttrsWith;

  attrByPath = attrPath: default: set:
    let
      lenAttrPath = length attrPath;
      attrByPath' = n: s:
        if n == lenAttrPath then s
        else
          let attr = builtins.elemAt attrPath n; in
          if s ? ${attr} then attrByPath' (n + 1) s.${attr} else default;
    in
    attrByPath' 0 set;
  hasAttrByPath = attrPath: e:
    if attrPath == [ ] then true
    else let attr = head attrPath; in if isAttrs e && e ? ${attr} then hasAttrByPath (tail attrPath) e.${attr} else false;
  setAttrByPath = attrPath: value:
    if attrPath == [ ] then value else { ${head attrPath} = setAttrByPath (tail attrPath) value; };
  getAttrFromPath = attrPath: set:
    attrByPath attrPath (throw "cannot find attribute `${lib.concatStringsSep "." attrPath}'") set;

  nameValuePair = name: value: { inherit name value; };
  mapAttrsToList = f: attrs: map (name: f name attrs.${name}) (attrNames attrs);
  mapAttrs' = f: set: listToAttrs (map (attr: f attr set.${attr}) (attrNames set));
  filterAttrs = pred: set: removeAttrs set (builtins.filter (name: !pred name set.${name}) (attrNames set));
  genAttrs = names: f: listToAttrs (map (n: nameValuePair n (f n)) names);
  optionalAttrs = cond: as: if cond then as else { };
  zipAttrs = zipAttrsWith (name: values: values);
  foldAttrs = op: nul: list_of_attrs:
    builtins.foldl' (a: n: a // mapAttrs (name: value: op value (a.${name} or nul)) n) { } (lib.lists.reverseList list_of_attrs);

  mapAttrsRecursive = f: set: mapAttrsRecursiveCond (as: true) f set;
  mapAttrsRecursiveCond = cond: f: set:
    let
      recurse = path:
        mapAttrs (name: value:
          if isAttrs value && cond value then recurse (path ++ [ name ]) value else f (path ++ [ name ]) value);
    in
    recurse [ ] set;

  collect = pred: attrs:
    if pred attrs then [ attrs ]
    else if isAttrs attrs then builtins.concatMap (collect pred) (builtins.attrValues attrs)
    else [ ];

  recursiveUpdateUntil = pred: lhs: rhs:
    let
      f = attrPath:
        zipAttrsWith (n: values:
          let here = attrPath ++ [ n ]; in
          if length values == 1 || pred here (builtins.elemAt values 1) (head values) then head values
          else f here values);
    in
    f [ ] [ rhs lhs ];
  recursiveUpdate = lhs: rhs: recursiveUpdateUntil (path: lhs: rhs: !(isAttrs lhs && isAttrs rhs)) lhs rhs;

  isDerivation = value: value.type or null == "derivation";
  showAttrPath = path: if path == [ ] then "<root attribute path>" else lib.concatMapStringsSep "." lib.strings.escapeNixIdentifier path;
}
