using CrossModal.Fuzz;

return FuzzCommand.Run(args);
