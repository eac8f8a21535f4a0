{ config, lib, ... }:
{
  options.networking.hostName = lib.mkOption {
    type = lib.types.str;
    example = "web";
    description = "The name of the machine.";
  };

  config.environment.etc.hostname.text = config.networking.hostName + "\n";
}
