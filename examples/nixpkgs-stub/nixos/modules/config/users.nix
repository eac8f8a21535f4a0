{ config, lib, ... }:
let
  inherit (lib) mkOption types;
  userOpts = { name, ... }: {
    options = {
      name = mkOption {
        type = types.str;
        default = name;
        description = "The name of the user account (the attribute name by default).";
      };
      uid = mkOption {
        type = types.int;
        description = "The account's user ID.";
      };
      isNormalUser = mkOption {
        type = types.bool;
        default = false;
        description = "Whether this is a normal user account, with a home directory and a login shell.";
      };
    };
  };
in
{
  options.users = {
    users = mkOption {
      type = types.attrsOf (types.submodule userOpts);
      default = { };
      example = { alice = { uid = 1234; isNormalUser = true; }; };
      description = "The user accounts of the system.";
    };
    motd = mkOption {
      type = types.nullOr types.lines;
      default = null;
      example = "Today is Sweetmorn, the 4th day of The Aftermath in the YOLD 3178.";
      description = "The message of the day shown to users when they log in.";
    };
  };

  config.environment.etc = lib.mkMerge [
    (lib.mkIf (config.users.motd != null) { motd.text = config.users.motd + "\n"; })
    {
      passwd.text = lib.concatStrings (lib.mapAttrsToList (n: u:
        "${u.name}:x:${toString u.uid}:100::/home/${u.name}:/bin/sh\n") config.users.users);
    }
  ];
}
