// Printed by the tests entry around the suite, so the runner shows the suite's output and not the workbench's.
export const BEGIN_MARK = '[nix-flakes-tests] begin';
export const END_MARK = '[nix-flakes-tests] end';
