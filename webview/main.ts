document.body.textContent = 'Nix Flakes';
